"""pytest-benchmark cases for the GEMM: fusednn against NumPy (OpenBLAS) on square products and the
784-512-256-10 MLP's training products (forward, dX = dY W^T, dW = X^T dY with transposed views).

    pytest benchmarks/bench_gemm.py --benchmark-group-by=param:case
"""
import numpy as np
import pytest

import fusednn as fnn
from fusednn import _C

CASES = {
    "square1024": (1024, 1024, 1024, "nn"),
    "square2048": (2048, 2048, 2048, "nn"),
    "tiny32x64x64": (32, 64, 64, "nn"),
    "mlp128_fwd_784_512": (128, 512, 784, "nn"),
    "mlp128_dX_512_784": (128, 784, 512, "nt"),
    "mlp128_dW_784x512": (784, 512, 128, "tn"),
    "mlp32_fwd_256_10": (32, 10, 256, "nn"),
}


def operands(m, n, k, layout):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if layout[0] == "t" else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if layout[1] == "t" else (k, n)).astype(np.float32)
    return (a.T if layout[0] == "t" else a), (b.T if layout[1] == "t" else b)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("lib", ["fusednn", "numpy"])
def test_gemm(benchmark, case, lib):
    m, n, k, layout = CASES[case]
    a, b = operands(m, n, k, layout)
    if lib == "fusednn":
        fa, fb, out = fnn.asarray(a), fnn.asarray(b), fnn.asarray(np.empty((m, n), np.float32))
        benchmark(_C._gemm, fa, fb, out)  # positional: pybind11 keyword parsing costs ~1.5 us
        result = np.asarray(out)
    else:
        out = np.empty((m, n), np.float32)
        benchmark(np.matmul, a, b, out=out)
        result = out
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["gflops"] = 2.0 * m * n * k / benchmark.stats.stats.median * 1e-9
    np.testing.assert_allclose(result, a.astype(np.float64) @ b, rtol=1e-3, atol=1e-3 * np.sqrt(k))
