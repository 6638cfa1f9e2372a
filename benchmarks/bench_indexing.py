"""Indexing and joining vs NumPy: the DataLoader's batch gather X[idx] (128 random rows of a
(60000, 784) float32 array), a scalar gather, small-tensor basic indexing overhead, and concatenate."""
import numpy as np
import pytest

import fusednn as fnn

rng = np.random.default_rng(0)
X = rng.standard_normal((60000, 784)).astype(np.float32)
IDX = rng.integers(0, 60000, 128)
SMALL = np.arange(12, dtype=np.float32).reshape(3, 4)
PARTS = [rng.standard_normal((256, 784)).astype(np.float32) for _ in range(4)]

LIBS = {"numpy": lambda a: a, "fusednn": fnn.Tensor}


@pytest.mark.parametrize("lib", LIBS)
def test_gather_rows_128_of_60000x784(benchmark, lib):
    benchmark.group = "gather X[idx] 128 rows of (60000, 784) f32"
    x, idx = LIBS[lib](X), LIBS[lib](IDX)
    benchmark(lambda: x[idx])


@pytest.mark.parametrize("lib", LIBS)
def test_gather_scalars_1M(benchmark, lib):
    benchmark.group = "gather x[idx] 1M scalars of 4M f32"
    x, idx = LIBS[lib](X.reshape(-1)[: 1 << 22]), LIBS[lib](rng.integers(0, 1 << 22, 1 << 20))
    benchmark(lambda: x[idx])


@pytest.mark.parametrize("index", [0, slice(1, 3), (slice(None), None)], ids=["t[0]", "t[1:3]", "t[:, None]"])
@pytest.mark.parametrize("lib", LIBS)
def test_basic_index_small(benchmark, lib, index):
    benchmark.group = f"basic index {index!r} on (3, 4)"
    t = LIBS[lib](SMALL)
    benchmark(lambda: t[index])


@pytest.mark.parametrize("lib", ["numpy", "fusednn"])
def test_concatenate_4x256x784(benchmark, lib):
    benchmark.group = "concatenate 4 x (256, 784) f32 axis 0"
    parts = PARTS if lib == "numpy" else [fnn.Tensor(p) for p in PARTS]
    cat = np.concatenate if lib == "numpy" else fnn.concatenate
    benchmark(lambda: cat(parts, axis=0))


@pytest.mark.parametrize("lib", ["numpy", "fusednn"])
def test_concatenate_axis1(benchmark, lib):
    benchmark.group = "concatenate 4 x (256, 784) f32 axis 1"
    parts = PARTS if lib == "numpy" else [fnn.Tensor(p) for p in PARTS]
    cat = np.concatenate if lib == "numpy" else fnn.concatenate
    benchmark(lambda: cat(parts, axis=1))
