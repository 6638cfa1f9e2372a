"""Optimizer-step benchmarks: one step over ~11.5M float32 parameters in 5 tensors (4M, 4M, 2M, 1M, 0.5M),
fusednn's fused SGD-momentum / Adam / AdamW / RMSprop beside torch.optim.Adam(fused=True) and
(foreach=True) when torch is installed.

    pytest benchmarks/bench_optim.py        # pytest-benchmark cases, grouped by algorithm
    python benchmarks/bench_optim.py        # one-run report: GB/s against the measured copy bandwidth

Adam's effective bandwidth counts 28 bytes per parameter (read p, g, m, v; write p, m, v); the yardstick
is np.copyto over a buffer of the same size (read + write counted), measured in the same run.
"""

import numpy as np
import pytest

import fusednn as fnn
from fusednn import optim
from timing import copy_bandwidth_gbs, interleaved_medians

try:
    import torch
except ImportError:  # torch is optional
    torch = None

SIZES = [4 << 20, 4 << 20, 2 << 20, 1 << 20, 1 << 19]
NPARAMS = sum(SIZES)
BYTES_PER_PARAM = {"sgd-momentum": 16, "adam": 28, "adamw": 28, "rmsprop": 20}
FUSEDNN = {"sgd-momentum": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
           "adam": lambda ps: optim.Adam(ps, lr=1e-3), "adamw": lambda ps: optim.AdamW(ps, lr=1e-3),
           "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-3)}


def fusednn_step(algo):
    rng = np.random.default_rng(0)
    params = []
    for n in SIZES:
        p = fnn.asarray(rng.standard_normal(n, dtype=np.float32))
        p.requires_grad = True
        p.grad = fnn.asarray(rng.standard_normal(n, dtype=np.float32) * 1e-3)
        params.append(p)
    return FUSEDNN[algo](params).step


def torch_adam_step(mode):
    torch.set_num_threads(fnn.get_num_threads())
    params = []
    for n in SIZES:
        p = torch.randn(n, requires_grad=True)
        p.grad = torch.randn(n) * 1e-3
        params.append(p)
    return torch.optim.Adam(params, lr=1e-3, **{mode: True}).step


@pytest.mark.parametrize("algo", list(FUSEDNN))
def test_fusednn_step(benchmark, algo):
    benchmark.group = f"step-11.5M-{algo}"
    benchmark(fusednn_step(algo))


@pytest.mark.parametrize("mode", ["fused", "foreach"])
def test_torch_adam_step(benchmark, mode):
    if torch is None:
        pytest.skip("torch is not installed")
    benchmark.group = "step-11.5M-adam"
    benchmark(torch_adam_step(mode))


def copy_bandwidth():
    """np.copyto bandwidth (bytes/s, read + write) over as many bytes as Adam moves / 2."""
    return copy_bandwidth_gbs(NPARAMS * 7 // 2) * 1e9


def report(rounds=15):
    import os
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    copy = copy_bandwidth()
    print(f"one optimizer step, {NPARAMS / 2**20:.1f}Mi float32 parameters in {len(SIZES)} tensors, "
          f"{fnn.get_num_threads()} threads, ISA {fnn.config.isa()}, load average {load:.1f}")
    print(f"copy bandwidth (np.copyto, read + write): {copy / 1e9:.1f} GB/s; medians of {rounds} steps each, "
          f"the contenders taking turns")
    steps = {algo: fusednn_step(algo) for algo in FUSEDNN}
    if torch is not None:
        steps.update({f"torch-{mode}": torch_adam_step(mode) for mode in ("fused", "foreach")})
    times = interleaved_medians(steps, rounds)
    for algo in FUSEDNN:
        gbs = BYTES_PER_PARAM[algo] * NPARAMS / times[algo] / 1e9
        print(f"  fusednn {algo:<13} {times[algo] * 1e3:7.2f} ms  {gbs:6.1f} GB/s  {gbs * 1e9 / copy:5.0%} of copy")
    if torch is None:
        print("  torch not installed: no comparison")
        return
    for mode in ("fused", "foreach"):
        t = times[f"torch-{mode}"]
        gbs = 28 * NPARAMS / t / 1e9
        print(f"  torch   adam ({mode:<7})  {t * 1e3:7.2f} ms  {gbs:6.1f} GB/s  {gbs * 1e9 / copy:5.0%} of copy"
              f"   fusednn adam is {t / times['adam']:.2f}x faster")


if __name__ == "__main__":
    report()
