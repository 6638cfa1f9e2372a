"""Random generation, fusednn (Philox4x32-10, threaded) vs numpy's default_rng (PCG64, one thread):
16M float32 normals and uniforms, plus an int64 integers draw and a 1M permutation."""
import numpy as np
import pytest

import fusednn as fnn

N = 16 * 2**20

CASES = {
    "normal": (lambda g: g.standard_normal(N, dtype=np.float32), lambda g: g.standard_normal(N, dtype=np.float32)),
    "uniform": (lambda g: g.random(N, dtype=np.float32), lambda g: g.random(N, dtype=np.float32)),
    "integers": (lambda g: g.integers(0, 1000, N), lambda g: g.integers(0, 1000, N)),
    "permutation": (lambda g: g.permutation(2**20), lambda g: g.permutation(2**20)),
}


@pytest.mark.parametrize("lib", ["fusednn", "numpy"])
@pytest.mark.parametrize("op", list(CASES))
def test_random(benchmark, op, lib):
    benchmark.group = f"random {op} 16M" if op != "permutation" else "random permutation 1M"
    ours, theirs = CASES[op]
    if lib == "fusednn":
        g = fnn.random.default_rng(0)
        benchmark(ours, g)
    else:
        g = np.random.default_rng(0)
        benchmark(theirs, g)
