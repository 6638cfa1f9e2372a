"""Activation benchmarks: forward and backward of relu, gelu, silu, sigmoid, tanh, softplus on 16M float32
elements, fusednn beside the NumPy formula and torch (same threads), grouped per op and pass. Run as a
script for a GB/s table against np.copyto's bandwidth measured in the same run:
    python benchmarks/bench_activation.py
"""
import math
import time

import numpy as np
import pytest

import fusednn as fnn
from fusednn import _C

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None

N = 1 << 24
ACTS = ["relu", "gelu", "silu", "sigmoid", "tanh", "softplus"]
FROM_OUTPUT = {"relu", "sigmoid", "tanh"}


def _np_forward(name, x):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "gelu":  # NumPy has no erf: the tanh form stands in
        return 0.5 * x * (1 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)))
    if name == "silu":
        return x / (1 + np.exp(-x))
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    return np.logaddexp(x, np.float32(0))


def _np_backward(name, dy, s):
    if name == "relu":
        return dy * (s > 0)
    if name in ("sigmoid",):
        return dy * s * (1 - s)
    if name == "tanh":
        return dy * (1 - s * s)
    sg = 1 / (1 + np.exp(-s))
    if name == "silu":
        return dy * sg * (1 + s * (1 - sg))
    if name == "softplus":
        return dy * sg
    return dy * (0.5 * (1 + np.tanh(0.79788456 * s)) + s * np.exp(-0.5 * s * s) * np.float32(0.39894228))


def _torch_fn(name):
    return {"relu": TF.relu, "gelu": TF.gelu, "silu": TF.silu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "softplus": TF.softplus}[name]


def cases(name, direction):
    """{lib: zero-argument callable} for one activation and pass."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N, dtype=np.float32) * 3
    dy = rng.standard_normal(N, dtype=np.float32)
    kind = getattr(_C.ActKind, name)
    y = np.asarray(_C._act(kind, x, 0.01, 1.0, 20.0))
    saved = y if name in FROM_OUTPUT else x
    if direction == "forward":
        out = {"fusednn": lambda: _C._act(kind, x, 0.01, 1.0, 20.0), "numpy": lambda: _np_forward(name, x)}
    else:
        out = {"fusednn": lambda: _C._act_backward(kind, dy, saved, 0.01, 1.0, 20.0),
               "numpy": lambda: _np_backward(name, dy, saved)}
    if torch is not None:
        tx, tdy, ts = torch.from_numpy(x), torch.from_numpy(dy), torch.from_numpy(saved)
        f = _torch_fn(name)
        if direction == "forward":
            out["torch"] = lambda: f(tx)
        else:
            bw = {"relu": lambda: torch.ops.aten.threshold_backward(tdy, ts, 0),
                  "gelu": lambda: torch.ops.aten.gelu_backward(tdy, ts),
                  "silu": lambda: torch.ops.aten.silu_backward(tdy, ts),
                  "sigmoid": lambda: torch.ops.aten.sigmoid_backward(tdy, ts),
                  "tanh": lambda: torch.ops.aten.tanh_backward(tdy, ts),
                  "softplus": lambda: torch.ops.aten.softplus_backward(tdy, ts, 1.0, 20.0)}
            out["torch"] = bw[name]
    return out


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("lib", ["fusednn", "numpy", "torch"])
def test_activation(benchmark, name, direction, lib):
    if lib == "torch" and torch is None:
        pytest.skip("torch is not installed")
    if torch is not None:
        torch.set_num_threads(fnn.get_num_threads())
    benchmark.group = f"{name}-{direction}-16M-float32"
    benchmark(cases(name, direction)[lib])


def median_seconds(fn, runs=7):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


if __name__ == "__main__":
    if torch is not None:
        torch.set_num_threads(fnn.get_num_threads())
    a, b = np.ones(N, np.float32), np.empty(N, np.float32)
    copy_gbs = 8 * N / median_seconds(lambda: np.copyto(b, a)) / 1e9
    print(f"threads {fnn.get_num_threads()}, np.copyto bandwidth {copy_gbs:.1f} GB/s (read + write)")
    print(f"{'op':22s} {'fusednn GB/s':>12s} {'% copy':>7s} {'numpy GB/s':>11s} {'torch GB/s':>11s}")
    for name in ACTS:
        for direction, nbytes in (("forward", 8 * N), ("backward", 12 * N)):
            c = cases(name, direction)
            gbs = {lib: nbytes / median_seconds(fn) / 1e9 for lib, fn in c.items()}
            print(f"{name + ' ' + direction:22s} {gbs['fusednn']:12.1f} {100 * gbs['fusednn'] / copy_gbs:6.0f}% "
                  f"{gbs['numpy']:11.1f} {gbs.get('torch', math.nan):11.1f}")
