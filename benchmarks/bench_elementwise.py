"""Elementwise benchmarks: add, multiply (array and scalar operand) and exp on 1M and 16M float32
elements, fusednn beside NumPy (single-threaded) in one group per op and size."""
import numpy as np
import pytest

import fusednn as fnn

SIZES = {"1M": 1 << 20, "16M": 1 << 24}
OPS = {
    "add": (lambda a, b: fnn.add(a, b), lambda a, b: np.add(a, b)),
    "mul": (lambda a, b: fnn.multiply(a, b), lambda a, b: np.multiply(a, b)),
    "mul_scalar": (lambda a, b: fnn.multiply(a, 1.5), lambda a, b: np.multiply(a, np.float32(1.5))),
    "exp": (lambda a, b: fnn.exp(a), lambda a, b: np.exp(a)),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("lib", ["fusednn", "numpy"])
def test_elementwise(benchmark, op, size, lib):
    benchmark.group = f"{op}-{size}-float32"
    rng = np.random.default_rng(0)
    a = rng.standard_normal(SIZES[size], dtype=np.float32)
    b = rng.standard_normal(SIZES[size], dtype=np.float32)
    fn = OPS[op][0 if lib == "fusednn" else 1]
    if lib == "fusednn":
        a, b = fnn.from_numpy(a), fnn.from_numpy(b)
    result = benchmark(fn, a, b)
    assert result.shape == (SIZES[size],)
