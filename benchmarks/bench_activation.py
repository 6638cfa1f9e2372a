"""Activation benchmarks: forward and backward of every elementwise activation on 16M float32 elements,
fusednn beside the NumPy formula and torch (same threads), grouped per op and pass. Run as a script for a
GB/s table (bytes read + written) against two copy bandwidths timed alternately with each op: fnn.copy (our
threaded copy, allocating its output as the activations do) and np.copyto (one thread, no allocation):
    python benchmarks/bench_activation.py [op ...]
"""
import math
import sys
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
ACTS = ["relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "softplus"]
FROM_OUTPUT = {"relu", "sigmoid", "tanh"}


def _np_forward(name, x):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x > 0, x, np.float32(0.01) * x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(x))
    if name in ("gelu", "gelu_tanh"):  # NumPy has no erf: the tanh form stands in for gelu too
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
    if name == "leaky_relu":
        return np.where(s > 0, dy, np.float32(0.01) * dy)
    if name == "elu":
        return np.where(s > 0, dy, dy * np.exp(s))
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
    return {"relu": TF.relu, "leaky_relu": TF.leaky_relu, "elu": TF.elu, "gelu": TF.gelu,
            "gelu_tanh": lambda t: TF.gelu(t, approximate="tanh"), "silu": TF.silu, "sigmoid": torch.sigmoid,
            "tanh": torch.tanh, "softplus": TF.softplus}[name]


def cases(name, direction):
    """{lib: zero-argument callable} for one activation and pass."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N, dtype=np.float32) * 3
    dy = rng.standard_normal(N, dtype=np.float32)
    kind = getattr(_C.ActKind, name)
    alpha = 1.0 if name == "elu" else 0.01  # torch's defaults (elu's alpha, leaky_relu's slope)
    y = np.asarray(_C._act(kind, x, alpha, 1.0, 20.0))
    saved = y if name in FROM_OUTPUT else x
    if direction == "forward":
        out = {"fusednn": lambda: _C._act(kind, x, alpha, 1.0, 20.0), "numpy": lambda: _np_forward(name, x)}
    else:
        out = {"fusednn": lambda: _C._act_backward(kind, dy, saved, alpha, 1.0, 20.0),
               "numpy": lambda: _np_backward(name, dy, saved)}
    if torch is not None:
        tx, tdy, ts = torch.from_numpy(x), torch.from_numpy(dy), torch.from_numpy(saved)
        f = _torch_fn(name)
        if direction == "forward":
            out["torch"] = lambda: f(tx)
        else:
            bw = {"relu": lambda: torch.ops.aten.threshold_backward(tdy, ts, 0),
                  "leaky_relu": lambda: torch.ops.aten.leaky_relu_backward(tdy, ts, 0.01, False),
                  "elu": lambda: torch.ops.aten.elu_backward(tdy, 1.0, 1.0, 1.0, False, ts),
                  "gelu": lambda: torch.ops.aten.gelu_backward(tdy, ts),
                  "gelu_tanh": lambda: torch.ops.aten.gelu_backward(tdy, ts, approximate="tanh"),
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


def paired_times(fns, rounds=15):
    """Seconds of each callable per round, timed in alternation so that load from other processes hits all alike."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return times


def median(values):
    return sorted(values)[len(values) // 2]


if __name__ == "__main__":
    if torch is not None:
        torch.set_num_threads(fnn.get_num_threads())
    a, b = np.ones(N, np.float32), np.empty(N, np.float32)
    fnn_copy, np_copy = (lambda: fnn.copy(a)), (lambda: np.copyto(b, a))
    print(f"threads {fnn.get_num_threads()}; GB/s count bytes read + written; each op is timed alternately with "
          f"fnn.copy and np.copyto of 16M float32: median GB/s and median per-round % of each copy")
    print(f"{'op':20s} {'fusednn':>8s} {'fnn.copy':>9s} {'%':>5s} {'np.copyto':>10s} {'%':>5s} {'numpy':>7s} {'torch':>7s}")
    for name in sys.argv[1:] or ACTS:
        for direction, nbytes in (("forward", 8 * N), ("backward", 12 * N)):
            c = cases(name, direction)
            t_op, t_copy, t_np = paired_times([c["fusednn"], fnn_copy, np_copy])
            op, cp, npc = (nb / median(ts) / 1e9 for nb, ts in ((nbytes, t_op), (8 * N, t_copy), (8 * N, t_np)))
            # % of a copy per round (adjacent timings), then the median: robust to load that drifts between rounds
            pct_cp, pct_np = (100 * median([nbytes * tc / (8 * N * to) for to, tc in zip(t_op, ts)]) for ts in (t_copy, t_np))
            others = {lib: nbytes / median_seconds(fn, 3) / 1e9 for lib, fn in c.items() if lib != "fusednn"}
            print(f"{name + ' ' + direction:20s} {op:8.1f} {cp:9.1f} {pct_cp:4.0f}% {npc:10.1f} {pct_np:4.0f}% "
                  f"{others['numpy']:7.1f} {others.get('torch', math.nan):7.1f}")
