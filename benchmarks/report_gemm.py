"""GEMM report, from one run: GFLOP/s (2 M N K / time) of fusednn, NumPy (OpenBLAS) and torch (when
installed) on the same shapes and threads, the ratios, and the fraction of the measured FMA peak.

    python benchmarks/report_gemm.py [--threads 2] [--quick]

The libraries take turns in rounds, one timing sample each (enough calls to last `sample_s`); each
library's median sample is reported, and each ratio is the median of the per-round ratios.
"""
import argparse
import os

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
parser.add_argument("--only", default="", help="run only the cases whose name starts with this")
ARGS = parser.parse_args() if __name__ == "__main__" else parser.parse_args([])
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)  # before NumPy loads its BLAS

import statistics  # noqa: E402
from functools import partial  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import fusednn as fnn  # noqa: E402
from fusednn import _C  # noqa: E402

try:
    import torch  # noqa: E402
    torch.set_num_threads(ARGS.threads)
except ImportError:
    torch = None


def mlp_cases(batch, sizes, tag):
    """Forward Y = X W and the two backward products dX = dY W^T, dW = X^T dY for each layer, with W
    stored (in, out) and the transposes as views, as a training step runs them."""
    cases = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        cases.append((f"{tag} B={batch} fwd {n_in}->{n_out}", batch, n_out, n_in, "nn"))
        cases.append((f"{tag} B={batch} dX  {n_out}->{n_in}", batch, n_in, n_out, "nt"))
        cases.append((f"{tag} B={batch} dW  {n_in}x{n_out}", n_in, n_out, batch, "tn"))
    return cases


def operands(m, n, k, layout, dtype, rng):
    """A (m x k) and B (k x n), transposed views of (k x m) / (n x k) storage where layout says 't'."""
    a = rng.standard_normal((k, m) if layout[0] == "t" else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if layout[1] == "t" else (k, n)).astype(dtype)
    return (a.T if layout[0] == "t" else a), (b.T if layout[1] == "t" else b)


def runners(a, b, dtype):
    """One zero-argument call per library, each writing into its own preallocated output: partials, not
    lambdas, so that no Python frame is timed along with the product (~60 ns, 2% of the tiny one)."""
    m, n = a.shape[0], b.shape[1]
    fa, fb, fc = fnn.asarray(a), fnn.asarray(b), fnn.asarray(np.empty((m, n), dtype))
    nc = np.empty((m, n), dtype)
    # out passed positionally: pybind11's keyword parsing alone costs ~1.5 us
    calls = {"fusednn": partial(_C._gemm, fa, fb, fc), "numpy": partial(np.matmul, a, b, out=nc)}
    if torch is not None:
        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty((m, n), dtype=getattr(torch, dtype.__name__))
        calls["torch"] = partial(torch.matmul, ta, tb, out=tc)
    return calls


def calibrate(fn, sample_s):
    """Calls of fn per sample so that one sample lasts about sample_s (after a warm-up call)."""
    fn()
    t0 = time.perf_counter()
    count = 0
    while time.perf_counter() - t0 < sample_s / 2:
        fn()
        count += 1
    return max(1, int(count * sample_s / (time.perf_counter() - t0)))


def time_calls(calls, sample_s, rounds, pause_s, peak=None):
    """Seconds per call of each library in each round: the libraries take turns, one sample each per
    round, so that load which comes and goes on a shared machine hits them alike. Each sample follows a
    pause and a warm-up call: idle worker threads of the previous library spin for a while after its
    last call (OpenBLAS for ~0.1 s) and would otherwise steal the cores. With `peak` (a function giving
    the FMA peak in GFLOP/s), the peak is measured just before each fusednn sample (a pause apart), under
    the same load, into per_round["peak"]."""
    reps = {name: calibrate(fn, sample_s) for name, fn in calls.items()}
    per_round = {name: [] for name in calls}
    if peak is not None:
        per_round["peak"] = []
    for _ in range(rounds):
        for name, fn in calls.items():
            time.sleep(pause_s)
            if name == "fusednn" and peak is not None:
                per_round["peak"].append(peak())
                time.sleep(pause_s)  # the probe's threads spin and its load lowers the clock for a moment
            fn()
            t0 = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            per_round[name].append((time.perf_counter() - t0) / reps[name])
    return per_round


def speedup(per_round, rival):
    """Median over rounds of rival's time / fusednn's time, each ratio from adjacent samples."""
    return statistics.median(r / f for r, f in zip(per_round[rival], per_round["fusednn"]))


def peak_fraction(per_round, flops, peak_scale):
    """Median over rounds of fusednn's GFLOP/s over the FMA peak measured just before it (times
    peak_scale: 1/2 for float64)."""
    return statistics.median(flops / t * 1e-9 / (p * peak_scale) for t, p in zip(per_round["fusednn"], per_round["peak"]))


def main(args=ARGS):
    fnn.set_num_threads(args.threads)
    rounds, sample_s, pause_s = (3, 0.01, 0.1) if args.quick else (7, 0.02, 0.1)
    rng = np.random.default_rng(0)

    peak = _C._fma_peak_gflops(args.threads, 1.0)
    print(f"fusednn {fnn.__version__}  isa={fnn.config.isa()}  threads={args.threads}  numpy {np.__version__}"
          + (f"  torch {torch.__version__}" if torch is not None else "  (torch not installed)"))
    print(f"measured FMA peak (float32, {args.threads} threads): {peak:.1f} GFLOP/s at the start; float64 peak taken "
          "as half.\n% peak: the median over rounds of fusednn's GFLOP/s over the peak measured just before it, under "
          "the same load;\n% start: fusednn's median GFLOP/s over the peak measured at the start\n")

    cases = []
    for size in (256, 512, 1024, 2048):
        for dtype in (np.float32, np.float64):
            cases.append((f"square {size} {np.dtype(dtype).name}", size, size, size, "nn", dtype))
    mlp = [c + (np.float32,) for batch in (32, 128, 512) for c in mlp_cases(batch, (784, 512, 256, 10), "mlp")]
    small = [c + (np.float32,) for c in mlp_cases(32, (10, 64, 64, 1), "small")]
    cases += mlp + small + [("tiny 32x64x64", 32, 64, 64, "nn", np.float32)]
    cases = [case for case in cases if case[0].startswith(args.only)]

    header = f"{'case':34s} {'M':>5s} {'N':>5s} {'K':>5s}  {'fusednn':>9s} {'numpy':>9s} {'x np':>6s}"
    header += f" {'torch':>9s} {'x torch':>7s}" if torch is not None else ""
    print(header + f" {'% peak':>7s} {'% start':>7s}  (GFLOP/s; us per call for tiny)")
    ratios = {"mlp": [], "small": []}
    for name, m, n, k, layout, dtype in cases:
        a, b = operands(m, n, k, layout, dtype, rng)
        # The tiny product is a target of its own and its samples are cheap: three times the rounds, so
        # that a few seconds of load from elsewhere cannot take the median
        case_rounds = 3 * rounds if name.startswith("tiny") else rounds
        per_round = time_calls(runners(a, b, dtype), sample_s, case_rounds, pause_s,
                               peak=partial(_C._fma_peak_gflops, args.threads, sample_s))
        t = {lib: statistics.median(per_round[lib]) for lib in per_round if lib != "peak"}
        flops = 2.0 * m * n * k
        gf = {lib: flops / s * 1e-9 for lib, s in t.items()}
        line = f"{name:34s} {m:5d} {n:5d} {k:5d}  {gf['fusednn']:9.1f} {gf['numpy']:9.1f} {speedup(per_round, 'numpy'):6.2f}"
        if torch is not None:
            line += f" {gf['torch']:9.1f} {speedup(per_round, 'torch'):7.2f}"
        peak_scale = 1.0 if dtype == np.float32 else 0.5
        line += f" {100 * peak_fraction(per_round, flops, peak_scale):6.1f}% {100 * gf['fusednn'] / (peak * peak_scale):6.1f}%"
        if name.startswith("tiny"):
            line += "  " + "  ".join(f"{lib} {s * 1e6:.2f} us" for lib, s in t.items())
        print(line, flush=True)
        for key in ratios:
            if name.startswith(key):
                ratios[key].append(speedup(per_round, "numpy"))
    print()
    for key, r in ratios.items():
        if r:
            print(f"median speed-up over numpy, {key} shapes: {statistics.median(r):.2f}x (min {min(r):.2f}, max {max(r):.2f})")
    print(f"FMA peak measured again at the end: {_C._fma_peak_gflops(args.threads, 1.0):.1f} GFLOP/s")
    # The Python-level call, allocation included, for the tiny product.
    a, b = operands(32, 64, 64, "nn", np.float32, rng)
    fa, fb = fnn.asarray(a), fnn.asarray(b)
    per_round = time_calls({"fnn.matmul": partial(fnn.matmul, fa, fb), "np.matmul": partial(np.matmul, a, b)},
                           sample_s, rounds, pause_s)
    print("tiny 32x64x64 with allocation: "
          + ", ".join(f"{lib} {statistics.median(s) * 1e6:.2f} us" for lib, s in per_round.items()))


if __name__ == "__main__":
    main()
