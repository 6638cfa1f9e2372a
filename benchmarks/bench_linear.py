"""Linear(784 -> 512) + ReLU, forward + backward (dX, dW, db), fusednn against torch eager on the same
weights and threads, batch 32 / 128 / 512.

    pytest benchmarks/bench_linear.py --benchmark-group-by=param:batch
    python benchmarks/bench_linear.py [--threads 2]     # medians and the ratio, one run
"""
import argparse
import os
import sys

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    ARGS = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)


import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fusednn as fnn  # noqa: E402
from fusednn import nn  # noqa: E402
from timing import interleaved_medians  # noqa: E402

BATCHES = [32, 128, 512]
IN, OUT = 784, 512


def fusednn_step(batch):
    """A closure running one forward + backward of Linear+ReLU on fixed data."""
    fnn.random.seed(0)
    layer = nn.Linear(IN, OUT, activation="relu")
    rng = np.random.default_rng(0)
    x = fnn.asarray(rng.standard_normal((batch, IN)).astype(np.float32))
    x.requires_grad = True
    dy = fnn.asarray(rng.standard_normal((batch, OUT)).astype(np.float32))

    def step():
        layer.weight.grad = layer.bias.grad = x.grad = None
        layer(x).backward(dy)
    return step, layer


def torch_step(batch, layer_weights=None):
    import torch  # noqa: PLC0415
    layer = torch.nn.Linear(IN, OUT)
    if layer_weights is not None:
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(layer_weights[0]))
            layer.bias.copy_(torch.from_numpy(layer_weights[1]))
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch, IN)).astype(np.float32)).requires_grad_()
    dy = torch.from_numpy(rng.standard_normal((batch, OUT)).astype(np.float32))

    def step():
        layer.weight.grad = layer.bias.grad = x.grad = None
        torch.relu(layer(x)).backward(dy)
    return step


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("lib", ["fusednn", "torch"])
def test_linear_relu_fwd_bwd(benchmark, batch, lib):
    if lib == "torch":
        pytest.importorskip("torch")
        step = torch_step(batch)
    else:
        step, _ = fusednn_step(batch)
    benchmark(step)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["gflops"] = 3 * 2.0 * batch * IN * OUT / benchmark.stats.stats.median * 1e-9


def main():
    import torch  # noqa: PLC0415
    torch.set_num_threads(ARGS.threads)
    fnn.set_num_threads(ARGS.threads)
    print(f"Linear({IN}->{OUT}) + ReLU, forward + backward (dX, dW, db), {ARGS.threads} threads, medians of 21 "
          f"~20 ms blocks each, fusednn and torch taking turns, load average {os.getloadavg()[0]:.2f}")
    print(f"{'batch':>6} {'fusednn us':>11} {'torch us':>10} {'torch/fusednn':>14} {'fusednn GFLOP/s':>16}")
    for batch in BATCHES:
        ours, layer = fusednn_step(batch)
        theirs = torch_step(batch, (np.asarray(layer.weight), np.asarray(layer.bias)))
        # blocks of `calls` steps (about 20 ms) keep each library's caches warm within its turn
        calls = max(1, round(0.02 / (OUT * IN * batch * 6 / 150e9)))
        blocks = {k: (lambda fn=fn: [fn() for _ in range(calls)]) for k, fn in (("ours", ours), ("theirs", theirs))}
        times = interleaved_medians(blocks, rounds=21, warmup=2)
        t_ours, t_theirs = times["ours"] / calls, times["theirs"] / calls
        gflops = 3 * 2.0 * batch * IN * OUT / t_ours * 1e-9
        print(f"{batch:>6} {t_ours * 1e6:>11.1f} {t_theirs * 1e6:>10.1f} {t_theirs / t_ours:>13.2f}x {gflops:>16.1f}")


if __name__ == "__main__":
    sys.exit(main())
