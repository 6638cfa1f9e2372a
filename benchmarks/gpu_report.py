"""The GPU report of issue 7, in one run on a machine with a CUDA device:

    python benchmarks/gpu_report.py [--skip-tests]

1. the CUDA tests (``pytest tests -k "cuda or device"``, in a subprocess; their summary is printed);
2. a table of fusednn on the device beside torch on the same device (when torch with CUDA is installed):
   - GEMM float32 and TF32, n x n x n at n = 1024, 4096, 8192, in TFLOP/s, against torch's cuBLAS (the
     rows of benchmarks/gpu_gemm.py);
   - the fused Adam step over 100M float32 parameters in effective GB/s (28 bytes per parameter: read p, g,
     m, v; write p, m, v) beside a measured device-to-device copy (fusednn's copy, read + write counted)
     and torch.optim.Adam(fused=True);
   - one training step (zero_grad, forward, cross-entropy, backward, Adam) of the 784-512-256-10 MLP at
     batch 512 and 4096, against torch eager.
Every time is a median over rounds after warm-up, with the device synchronised around each timed region.
Without a usable GPU it says why and exits with status 1.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import fusednn as fnn
import fusednn.nn.functional as F
from fusednn import _C, nn, optim
from gpu_gemm import gpu_gemm_rows

ROOT = Path(__file__).resolve().parent.parent

try:
    import torch

    HAVE_TORCH = torch.cuda.is_available()
except ImportError:  # torch is optional
    torch, HAVE_TORCH = None, False


def require_gpu():
    if not fnn.cuda.is_built():
        sys.exit("gpu_report: this fusednn build has no CUDA kernels (fnn.cuda.is_built() is False); install it "
                 "on a machine with nvcc, or force it with pip install . -C cmake.define.FUSEDNN_CUDA=ON")
    if not fnn.cuda.is_available():
        sys.exit("gpu_report: no CUDA device is visible to fusednn (fnn.cuda.device_count() is 0): run it on a "
                 "machine with an NVIDIA GPU and its driver")


def run_tests():
    """The CUDA tests, in a subprocess; returns its exit status."""
    cmd = [sys.executable, "-m", "pytest", "tests", "-q", "-k", "cuda or device", "-p", "no:cacheprovider"]
    print("$", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = (done.stdout + done.stderr).strip().splitlines()
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    print("\n".join(failures[:40] + lines[-1:]))
    print(f"CUDA tests: {'passed' if done.returncode == 0 else f'FAILED (exit {done.returncode})'}\n", flush=True)
    return done.returncode


# ---------------------------------------------------------------- timing

def fnn_sync():
    fnn.cuda.synchronize()


def torch_sync():
    torch.cuda.synchronize()


def device_seconds(fn, sync, rounds=7, warmup=3, target=0.05):
    """Median seconds per call of fn() over ``rounds`` timed regions of about ``target`` seconds each, the
    device synchronised before and after each region, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    reps = max(1, int(target / max(time.perf_counter() - t0, 1e-6)))
    times = []
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / reps)
    return statistics.median(times)


def ratio(ours, theirs, higher_is_better=True):
    if theirs is None or ours is None:
        return "n/a"
    return f"{(ours / theirs if higher_is_better else theirs / ours):.2f}x"


def fmt(x, width=12):
    return f"{'n/a':>{width}}" if x is None else f"{x:{width}.2f}"


# ---------------------------------------------------------------- GEMM

def gemm_rows():
    """The GEMM family's own rows (benchmarks/gpu_gemm.py: cuda:0, float32 and TF32), in TFLOP/s."""
    return [(f"GEMM {r['precision'].upper()} n={r['n']} (TFLOP/s)", r["fusednn_gflops"] / 1e3,
             None if r["torch_gflops"] is None else r["torch_gflops"] / 1e3) for r in gpu_gemm_rows()]


# ---------------------------------------------------------------- fused Adam

ADAM_SIZES = [40_000_000, 30_000_000, 20_000_000, 10_000_000]  # 100M parameters in 4 tensors


def adam_rows():
    n = sum(ADAM_SIZES)
    params = []
    for size in ADAM_SIZES:
        p = fnn.zeros(size, device="cuda")
        p.requires_grad = True
        p.grad = fnn.full((size,), 1e-3, dtype=np.float32, device="cuda")
        params.append(p)
    opt = optim.Adam(params, lr=1e-3)
    adam = 28 * n / device_seconds(opt.step, fnn_sync) / 1e9
    del opt, params
    src = fnn.ones(n, device="cuda")
    dst = fnn.empty(n, device="cuda")
    copy = 2 * 4 * n / device_seconds(lambda: _C._copy_into(dst, src), fnn_sync) / 1e9
    del src, dst
    theirs = None
    if HAVE_TORCH:
        tparams = [torch.zeros(size, device="cuda", requires_grad=True) for size in ADAM_SIZES]
        for p in tparams:
            p.grad = torch.full_like(p, 1e-3)
        topt = torch.optim.Adam(tparams, lr=1e-3, fused=True)
        theirs = 28 * n / device_seconds(topt.step, torch_sync) / 1e9
        del topt, tparams
    return [("Adam step, 100M params (GB/s, 28 B/param)", adam, theirs),
            ("  device copy, fusednn (GB/s, read + write)", copy, None),
            ("  Adam / copy", adam / copy, None)]


# ---------------------------------------------------------------- MLP training step

def mlp_rows():
    rows = []
    rng = np.random.default_rng(1)
    for batch in (512, 4096):
        x_host = rng.standard_normal((batch, 784), dtype=np.float32)
        y_host = rng.integers(0, 10, batch)
        model = nn.Sequential(nn.Linear(784, 512, activation="relu"), nn.Linear(512, 256, activation="relu"),
                              nn.Linear(256, 10)).to("cuda")
        opt = optim.Adam(model.parameters(), lr=1e-3)
        x, y = fnn.asarray(x_host, device="cuda"), fnn.asarray(y_host, device="cuda")

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        ours = device_seconds(step, fnn_sync) * 1e3
        theirs = None
        if HAVE_TORCH:
            tmodel = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                         torch.nn.ReLU(), torch.nn.Linear(256, 10)).cuda()
            topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
            tx, ty = torch.from_numpy(x_host).cuda(), torch.from_numpy(y_host).cuda()

            def tstep():
                topt.zero_grad()
                torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
                topt.step()

            theirs = device_seconds(tstep, torch_sync) * 1e3
        rows.append((f"MLP 784-512-256-10 step, batch {batch} (ms)", ours, theirs))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true", help="only the timing table")
    args = parser.parse_args()
    require_gpu()
    status = 0 if args.skip_tests else run_tests()
    name = torch.cuda.get_device_name() if HAVE_TORCH else "CUDA device 0"
    print(f"fusednn on {name}; torch {torch.__version__ if HAVE_TORCH else 'with CUDA not available (n/a)'}\n")
    header = f"{'case':<48}{'fusednn':>12}{'torch':>12}{'fusednn/torch':>15}"
    print(header)
    print("-" * len(header))
    sections = [(gemm_rows, True), (adam_rows, True), (mlp_rows, False)]
    for make, higher_is_better in sections:
        for label, ours, theirs in make():
            print(f"{label:<48}{fmt(ours)}{fmt(theirs)}"
                  f"{ratio(ours, theirs, higher_is_better):>15}", flush=True)
    print("\nfusednn/torch: above 1 means fusednn is faster (time ratios are inverted).")
    sys.exit(status)


if __name__ == "__main__":
    main()
