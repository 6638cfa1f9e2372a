"""Reduction benchmarks: sum of 1M and 16M float32 elements, and sum(axis=0) / sum(axis=1) of a 4096 x 4096
float32 matrix, fusednn beside NumPy in one group per case."""
import numpy as np
import pytest

import fusednn as fnn

CASES = {
    "sum-1M": ((1 << 20,), None),
    "sum-16M": ((1 << 24,), None),
    "sum-4096x4096-axis0": ((4096, 4096), 0),
    "sum-4096x4096-axis1": ((4096, 4096), 1),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("lib", ["fusednn", "numpy"])
def test_sum(benchmark, case, lib):
    shape, axis = CASES[case]
    benchmark.group = f"{case}-float32"
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    fn = np.sum
    if lib == "fusednn":
        x, fn = fnn.from_numpy(x), fnn.sum
    result = benchmark(fn, x, axis=axis)
    expected = np.sum(np.asarray(x), axis=axis, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(result), expected, rtol=1e-4)
