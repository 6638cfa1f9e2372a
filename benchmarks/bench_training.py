"""Training speed, issue 6: (a) one fit() epoch of the MNIST-sized MLP 784-512-256-10 (60,000 random samples,
batch 128, Adam, cross-entropy) against a hand-written fusednn loop over the same steps (target: fit <= 10%
slower) and a torch eager loop (target: >= 2x faster); (b) one hand-written training step of a 10-64-64-1
MLP (batch 32, MSE, Adam; target <= 60 us; torch eager ~ 500-800 us here).

    python benchmarks/bench_training.py [--quick] [--threads 2]   # the report: every case in one run, ratios
    python -m pytest benchmarks/bench_training.py                   # pytest-benchmark cases (quick sizes)
"""
import argparse
import os

import numpy as np
import pytest

import fusednn as fnn
from fusednn import nn
from fusednn.nn import functional as F
from timing import interleaved_medians, median_seconds

try:
    import torch
except ImportError:  # torch cases are skipped
    torch = None

SIZES = (784, 512, 256, 10)


def mnist_like(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], n).astype(np.int64)


def fnn_mlp(sizes):
    layers = [nn.Linear(a, b, activation="relu") for a, b in zip(sizes[:-2], sizes[1:-1])]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def torch_mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-2], sizes[-1]))


# ---------------------------------------------------------------- (a) one epoch

def fit_epoch(x, y, batch):
    """fit() over one epoch, returning a callable that runs one more epoch."""
    fnn.random.seed(0)
    model = fnn_mlp(SIZES)
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, lr=1e-3)
    return lambda: model.fit(x, y, epochs=1, batch_size=batch, verbose=0)


def hand_epoch(x, y, batch):
    """The same steps written by hand: permutation, x[idx] gathers, zero_grad/forward/loss/backward/step."""
    fnn.random.seed(0)
    model = fnn_mlp(SIZES)
    opt = fnn.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = fnn.asarray(x), fnn.asarray(y)
    n = x.shape[0]

    def epoch():
        order = fnn.random.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()
    return epoch


def torch_epoch(x, y, batch):
    torch.manual_seed(0)
    model = torch_mlp(SIZES)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = x.shape[0]

    def epoch():
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()
    return epoch


# ---------------------------------------------------------------- (b) one small step

def small_data():
    rng = np.random.default_rng(1)
    return rng.random((32, 10), dtype=np.float32), rng.random((32, 1), dtype=np.float32)


def fnn_small_step():
    fnn.random.seed(0)
    model = fnn_mlp((10, 64, 64, 1))
    opt = fnn.optim.Adam(model.parameters(), lr=1e-3)
    xb, yb = (fnn.asarray(a) for a in small_data())

    def step():
        opt.zero_grad()
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
    return step


def torch_small_step():
    torch.manual_seed(0)
    model = torch_mlp((10, 64, 64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xb, yb = (torch.from_numpy(a) for a in small_data())

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
    return step


# ---------------------------------------------------------------- pytest-benchmark cases

EPOCH = {"fit": fit_epoch, "hand": hand_epoch, "torch": torch_epoch}


@pytest.mark.parametrize("kind", list(EPOCH))
def test_epoch_784_512_256_10(benchmark, kind):
    if kind == "torch" and torch is None:
        pytest.skip("PyTorch is not installed")
    benchmark.group = "one epoch, MLP 784-512-256-10, 6,000 samples, batch 128"
    x, y = mnist_like(6000)
    benchmark.pedantic(EPOCH[kind](x, y, 128), rounds=3, warmup_rounds=1)


@pytest.mark.parametrize("kind", ["fusednn", "torch"])
def test_small_step(benchmark, kind):
    if kind == "torch" and torch is None:
        pytest.skip("PyTorch is not installed")
    benchmark.group = "training step, MLP 10-64-64-1, batch 32, MSE, Adam"
    benchmark((fnn_small_step if kind == "fusednn" else torch_small_step)())


# ---------------------------------------------------------------- the report

def per_step(step, steps=2000, repeats=7):
    """Median over ``repeats`` blocks of ``steps`` steps, per step."""
    return median_seconds(lambda: [step() for _ in range(steps)], min_time=0, min_runs=repeats, warmup=1) / steps


def report(quick, threads):
    fnn.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    n = 12000 if quick else 60000
    repeats = 3 if quick else 5
    print(f"fusednn {fnn.__version__}, torch {torch.__version__ if torch else 'absent'}, {threads} threads, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    x, y = mnist_like(n)
    print(f"(a) one epoch of MLP 784-512-256-10 on {n:,} random samples, batch 128, Adam (median of {repeats}):")
    runners = {k: EPOCH[k](x, y, 128) for k in EPOCH if k != "torch" or torch is not None}
    times = interleaved_medians(runners, rounds=repeats, warmup=1)
    for k in runners:
        print(f"    {k:<6} {times[k]:7.3f} s/epoch   {n / times[k]:>9,.0f} samples/s")
    print(f"    fit overhead vs the hand-written loop: {100 * (times['fit'] / times['hand'] - 1):+.1f}% (target <= +10%)")
    if "torch" in times:
        print(f"    fit vs torch eager: {times['torch'] / times['fit']:.2f}x faster (target >= 2x)")
    print("(b) one training step of MLP 10-64-64-1, batch 32, MSE, Adam (median of 7 x 2000 steps):")
    ours = per_step(fnn_small_step())
    print(f"    fusednn {1e6 * ours:7.1f} us/step (target <= 60 us)")
    fnn.set_num_threads(1)
    ours1 = per_step(fnn_small_step())
    fnn.set_num_threads(threads)
    print(f"    fusednn {1e6 * ours1:7.1f} us/step with 1 thread")
    if torch is not None:
        theirs = per_step(torch_small_step(), steps=500)
        print(f"    torch   {1e6 * theirs:7.1f} us/step   -> fusednn {theirs / ours:.1f}x faster")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12,000 samples per epoch instead of 60,000")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    report(args.quick, args.threads)
