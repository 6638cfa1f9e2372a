"""Per-op Python overhead on 1-element tensors, where the kernel's own time is negligible: ``a + b`` with
and without autograd recording, ``t[0]`` and ``t.reshape(-1)``, against NumPy and PyTorch (when
installed). Issue 4 targets: a + b <= 1 us without grad, <= 2 us recorded for autograd."""
import numpy as np
import pytest

import fusednn as fnn

try:
    import torch
except ImportError:  # the torch cases are skipped
    torch = None


def _operands(lib, requires_grad):
    """Two 1-element float32 operands (a tracked by autograd when requires_grad) and a 5-element one."""
    if lib == "torch":
        if torch is None:
            pytest.skip("PyTorch is not installed")
        return torch.ones(1, requires_grad=requires_grad), torch.ones(1), torch.ones(5, requires_grad=requires_grad)
    if lib == "numpy":
        if requires_grad:
            pytest.skip("NumPy has no autograd")
        return np.ones(1, np.float32), np.ones(1, np.float32), np.ones(5, np.float32)
    return (fnn.ones(1, requires_grad=requires_grad), fnn.ones(1),
            fnn.ones(5, requires_grad=requires_grad))


LIBS = ["fusednn", "torch", "numpy"]
GRAD = pytest.mark.parametrize("requires_grad", [False, True], ids=["no_grad", "recorded"])


@GRAD
@pytest.mark.parametrize("lib", LIBS)
def test_add_1_element(benchmark, lib, requires_grad):
    benchmark.group = f"a + b, 1 element, {'recorded for autograd' if requires_grad else 'no autograd'}"
    a, b, _ = _operands(lib, requires_grad)
    benchmark(lambda: a + b)


@GRAD
@pytest.mark.parametrize("lib", LIBS)
def test_getitem_int(benchmark, lib, requires_grad):
    benchmark.group = f"t[0] on 5 elements, {'recorded' if requires_grad else 'no autograd'}"
    _, _, t = _operands(lib, requires_grad)
    benchmark(lambda: t[0])


@GRAD
@pytest.mark.parametrize("lib", LIBS)
def test_reshape(benchmark, lib, requires_grad):
    benchmark.group = f"t.reshape(-1) on 5 elements, {'recorded' if requires_grad else 'no autograd'}"
    _, _, t = _operands(lib, requires_grad)
    benchmark(lambda: t.reshape(-1))
