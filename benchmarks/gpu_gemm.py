"""GEMM on a CUDA device against torch.matmul (cuBLAS) on the same device: float32 (our SIMT kernel) and TF32
(our mma.sync kernel against cuBLAS with TF32 allowed) at 1024, 4096 and 8192, in GFLOP/s with the ratio.
For benchmarks/gpu_report.py: gpu_gemm_rows() returns [] without a GPU; without torch (or a CUDA torch) the
torch columns are None. Importing this module needs neither.
"""
import time

import numpy as np

import fusednn as fnn
from fusednn import _C

SIZES = (1024, 4096, 8192)


def _seconds_per_call(fn, synchronize, seconds=0.3):
    """Mean time of fn() over a loop of about `seconds`, the device synchronised before and after."""
    fn()
    synchronize()  # warm-up: first launch, allocations
    t0 = time.perf_counter()
    fn()
    synchronize()
    iters = max(3, int(seconds / max(time.perf_counter() - t0, 1e-6)))
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    synchronize()
    return (time.perf_counter() - t0) / iters


def _cuda_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def gpu_gemm_rows(sizes=SIZES):
    """One dict per (size, precision): C = A B for n x n float32 operands on cuda:0."""
    if not fnn.cuda.is_available():
        return []
    torch = _cuda_torch()
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        da, db = fnn.asarray(a).cuda(), fnn.asarray(b).cuda()
        out = fnn.empty((n, n), device="cuda")
        if torch is not None:
            ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
            tc = torch.empty((n, n), device="cuda")
        flops = 2.0 * n ** 3
        for precision in ("fp32", "tf32"):
            tf32 = precision == "tf32"
            fnn.backends.cuda.matmul.allow_tf32 = tf32
            try:
                ours = _seconds_per_call(lambda: _C._gemm(da, db, out), fnn.cuda.synchronize)
            finally:
                fnn.backends.cuda.matmul.allow_tf32 = False
            row = {"case": f"gemm {n}x{n}x{n} {precision}", "n": n, "precision": precision,
                   "fusednn_gflops": flops / ours * 1e-9, "torch_gflops": None, "ratio": None,
                   "max_rel_diff": None}
            if torch is not None:
                before = torch.backends.cuda.matmul.allow_tf32
                torch.backends.cuda.matmul.allow_tf32 = tf32
                try:
                    theirs = _seconds_per_call(lambda: torch.matmul(ta, tb, out=tc), torch.cuda.synchronize)
                finally:
                    torch.backends.cuda.matmul.allow_tf32 = before
                ref, got = tc[:64].cpu().numpy(), np.asarray(out[:64].cpu())  # first rows: a sanity check
                row.update(torch_gflops=flops / theirs * 1e-9, ratio=theirs / ours,
                           max_rel_diff=float(np.abs(got - ref).max() / np.abs(ref).max()))
            rows.append(row)
    return rows


if __name__ == "__main__":
    for r in gpu_gemm_rows():
        torch_part = "" if r["ratio"] is None else f"  torch {r['torch_gflops']:9.0f}  ratio {r['ratio']:.2f}"
        print(f"{r['case']:28s} fusednn {r['fusednn_gflops']:9.0f} GFLOP/s{torch_part}")
