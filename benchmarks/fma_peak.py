"""The machine's FMA peak: float32 GFLOP/s of independent vector FMA chains with the active ISA's widest
vectors, on 1 thread and on every thread. GEMM efficiency is reported against this number.

    python benchmarks/fma_peak.py [--seconds 1.0]
"""
import argparse

import fusednn as fnn
from fusednn import _C


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    print(f"isa={fnn.config.isa()}")
    for threads in sorted({1, fnn.get_num_threads()}):
        gflops = _C._fma_peak_gflops(threads, args.seconds)
        print(f"float32 FMA peak, {threads} thread(s): {gflops:.1f} GFLOP/s (float64: half)")


if __name__ == "__main__":
    main()
