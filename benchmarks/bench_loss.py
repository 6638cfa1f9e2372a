"""Loss benchmarks: fused cross-entropy forward + backward (int labels, mean) at batch 512 x 10 and
512 x 1000 float32, fusednn beside torch (same threads) and the NumPy formula, grouped per shape. Run as a
script for a table of medians:  python benchmarks/bench_loss.py
"""

import numpy as np
import pytest

import fusednn as fnn
from fusednn import loss as L
from timing import median_seconds

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None

SHAPES = {"512x10": (512, 10), "512x1000": (512, 1000)}


def cases(n, c):
    """{lib: zero-argument callable} running one forward + backward."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c), dtype=np.float32)
    labels = rng.integers(0, c, n)
    fx = fnn.asarray(x)
    fx.requires_grad = True

    def ours():
        fx.grad = None
        L.cross_entropy(fx, labels).backward()

    def numpy_formula():
        z = x - x.max(1, keepdims=True)
        e = np.exp(z)
        s = e.sum(1, keepdims=True)
        loss = (np.log(s[:, 0]) - z[np.arange(n), labels]).mean()
        dx = e / s
        dx[np.arange(n), labels] -= 1
        return loss, dx / n

    out = {"fusednn": ours, "numpy": numpy_formula}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tl = torch.from_numpy(labels)

        def theirs():
            tx.grad = None
            TF.cross_entropy(tx, tl).backward()
        out["torch"] = theirs
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("lib", ["fusednn", "numpy", "torch"])
def test_cross_entropy_fwd_bwd(benchmark, shape, lib):
    if lib == "torch" and torch is None:
        pytest.skip("torch is not installed")
    if torch is not None:
        torch.set_num_threads(fnn.get_num_threads())
    benchmark.group = f"cross_entropy-fwd+bwd-{shape}-float32"
    benchmark(cases(*SHAPES[shape])[lib])


if __name__ == "__main__":
    if torch is not None:
        torch.set_num_threads(fnn.get_num_threads())
    print(f"threads {fnn.get_num_threads()}; cross_entropy forward + backward, median us")
    for name, (n, c) in SHAPES.items():
        us = {lib: 1e6 * median_seconds(fn, min_time=0, min_runs=201, warmup=20) for lib, fn in cases(n, c).items()}
        print(f"{name:10s} fusednn {us['fusednn']:8.1f}  numpy {us['numpy']:8.1f}  torch {us.get('torch', float('nan')):8.1f}"
              f"  torch/fusednn {us.get('torch', float('nan')) / us['fusednn']:.2f}x")
