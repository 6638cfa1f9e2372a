"""Speed report: fusednn against NumPy (and torch, when installed) on the same shapes, in one run.

    python benchmarks/report.py            # all cases
    python benchmarks/report.py --quick    # 1M elements only

Each case is warmed up, then timed as the median of repeated calls; ratios > 1 mean fusednn is faster.
The machine's copy bandwidth (NumPy copyto, read + write) is measured in the same run as the yardstick
for memory-bound kernels.
"""
import argparse

import numpy as np

import fusednn as fnn
from timing import copy_bandwidth_gbs, median_seconds

try:
    import torch
except ImportError:  # torch is optional: the report then compares with NumPy only
    torch = None


def elementwise_cases(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    fa, fb = fnn.asarray(a), fnn.asarray(b)
    ta, tb = (torch.from_numpy(a), torch.from_numpy(b)) if torch else (None, None)
    nbytes = a.nbytes
    return [
        # name, fusednn, numpy, torch, bytes moved per call
        (f"add {n:,}", lambda: fa + fb, lambda: a + b, ta is not None and (lambda: ta + tb), 3 * nbytes),
        (f"mul {n:,}", lambda: fa * fb, lambda: a * b, ta is not None and (lambda: ta * tb), 3 * nbytes),
        (f"exp {n:,}", lambda: fnn.exp(fa), lambda: np.exp(a), ta is not None and (lambda: torch.exp(ta)), 2 * nbytes),
        (f"sum {n:,}", lambda: fa.sum(), lambda: a.sum(), ta is not None and (lambda: ta.sum()), nbytes),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 1M-element cases")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    fnn.set_num_threads(args.threads)
    if torch:
        torch.set_num_threads(args.threads)

    sizes = [1 << 20] if args.quick else [1 << 20, 1 << 24]
    print(f"fusednn {fnn.__version__}, isa {fnn.config.isa()}, {args.threads} threads; numpy {np.__version__}"
          + (f"; torch {torch.__version__}" if torch else "; torch not installed"))
    print(f"copy bandwidth (numpy copyto, read+write): {copy_bandwidth_gbs():.1f} GB/s\n")
    header = f"{'case':<16}{'fusednn ms':>11}{'GB/s':>8}{'numpy ms':>10}{'x numpy':>9}{'torch ms':>10}{'x torch':>9}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        for name, ours, numpy_fn, torch_fn, nbytes in elementwise_cases(n):
            t_ours, t_np = median_seconds(ours), median_seconds(numpy_fn)
            row = f"{name:<16}{t_ours * 1e3:>11.3f}{nbytes / t_ours / 1e9:>8.1f}{t_np * 1e3:>10.3f}{t_np / t_ours:>9.2f}"
            if torch_fn:
                t_torch = median_seconds(torch_fn)
                row += f"{t_torch * 1e3:>10.3f}{t_torch / t_ours:>9.2f}"
            print(row)


if __name__ == "__main__":
    main()
