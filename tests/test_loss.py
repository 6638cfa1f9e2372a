"""Loss kernels against NumPy float64 formulas: every pointwise loss and reduction on every ISA and float
dtype, fused cross-entropy (labels, probabilities, weights, label smoothing, ignore_index) and nll_loss,
gradcheck for every function and reduction (targets included where they get a gradient), huge logits,
thread-count invariance, bad input, and torch on the same inputs. The CUDA kernels against the CPU's on the
same data (skipped without a device)."""
import numpy as np
import pytest

import fusednn as fnn
from fusednn import _C
from fusednn import loss as L
from conftest import DEVICES

REDUCTIONS = ["mean", "sum", "none"]
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _reduce(v, reduction, denominator=None):
    if reduction == "none":
        return v
    return v.sum() / (v.size if denominator is None else denominator) if reduction == "mean" else v.sum()


def _softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def np_pointwise(name, x, t, w=None, pw=None, delta=1.0):
    d = x - t
    if name == "mse":
        v = d * d
    elif name == "l1":
        v = np.abs(d)
    elif name == "huber":
        v = np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
    elif name == "bce":
        v = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    else:
        v = (1.0 if pw is None else pw) * t * _softplus(-x) + (1 - t) * _softplus(x)
    return v if w is None else v * w


POINTWISE = {"mse": lambda x, t, r, **k: L.mse_loss(x, t, reduction=r),
             "l1": lambda x, t, r, **k: L.l1_loss(x, t, reduction=r),
             "huber": lambda x, t, r, delta=1.0, **k: L.huber_loss(x, t, reduction=r, delta=delta),
             "bce": lambda x, t, r, w=None, **k: L.binary_cross_entropy(x, t, weight=w, reduction=r),
             "bce_logits": lambda x, t, r, w=None, pw=None, **k: L.binary_cross_entropy_with_logits(
                 x, t, weight=w, reduction=r, pos_weight=pw)}


def _inputs(name, shape, dtype, rng):
    if name == "bce":
        x = rng.uniform(0.02, 0.98, shape)
        x.flat[:2] = [0.0, 1.0][: x.size]  # the clamped logs
        return x.astype(dtype), (rng.uniform(size=shape) > 0.5).astype(dtype)
    return (rng.standard_normal(shape) * 2).astype(dtype), (rng.standard_normal(shape) * 2).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(POINTWISE))
def test_pointwise_values_and_gradients(isa, dtype, name):
    rng = np.random.default_rng(0)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for shape in [(0,), (1,), (7, 3), (5000, 3)]:
        x, t = _inputs(name, shape, dtype, rng)
        w = rng.uniform(0.5, 2, shape[-1:]) if name.startswith("bce") else None
        pw = rng.uniform(0.5, 3, shape[-1:]) if name == "bce_logits" else None
        x64, t64 = x.astype(np.float64), t.astype(np.float64)
        v = np_pointwise(name, x64, t64, w, pw, delta=0.7)
        for r in REDUCTIONS:
            got = POINTWISE[name](x, t, r, w=w, pw=pw, delta=0.7)
            assert got.dtype == dtype and got.shape == (shape if r == "none" else ())
            np.testing.assert_allclose(np.asarray(got), _reduce(v, r), **tol)
        if x.size:  # gradient of the sum, against central differences of the float64 formula
            xt = fnn.asarray(x.copy())
            xt.requires_grad = True
            POINTWISE[name](xt, t, "sum", w=w, pw=pw, delta=0.7).backward()
            h = 1e-6
            num = (np_pointwise(name, x64 + h, t64, w, pw, 0.7) - np_pointwise(name, x64 - h, t64, w, pw, 0.7)) / (2 * h)
            keep = np.abs(np.abs(x64 - t64) - 0.7) > 1e-3 if name == "huber" else np.abs(x64 - t64) > 1e-3
            if name == "bce":
                keep = (x64 > 1e-3) & (x64 < 1 - 1e-3)
            np.testing.assert_allclose(np.asarray(xt.grad)[keep], num[keep], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("r", REDUCTIONS)
@pytest.mark.parametrize("name", list(POINTWISE))
def test_pointwise_gradcheck(name, r):
    rng = np.random.default_rng(1)
    x, t = _inputs(name, (3, 4), np.float64, rng)
    if name == "bce":
        x = np.clip(x, 0.05, 0.95)
        w = rng.uniform(0.5, 2, 4)
        assert fnn.autograd.gradcheck(lambda a: POINTWISE[name](a, t, r, w=w), (x,))
    elif name == "bce_logits":
        t = rng.uniform(size=(3, 4))
        w, pw = rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 3, 4)
        assert fnn.autograd.gradcheck(lambda a, b: POINTWISE[name](a, b, r, w=w, pw=pw), (x, t))
    else:
        x = x + np.sign(x - t) * 0.1  # keep away from the kinks
        assert fnn.autograd.gradcheck(lambda a, b: POINTWISE[name](a, b, r, delta=0.7), (x, t))


def np_cross_entropy(x, target, w=None, eps=0.0, ignore=-100):
    n, c = x.shape
    lse = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    logp = x - lse[:, None]
    wv = np.ones(c) if w is None else w
    if target.ndim == 2:
        tp = (1 - eps) * target + eps / c
        return -(wv * tp * logp).sum(1), n
    keep = target != ignore
    tt = np.where(keep, target, 0)
    v = -(1 - eps) * wv[tt] * logp[np.arange(n), tt] - eps / c * (wv * logp).sum(1)
    return np.where(keep, v, 0.0), (wv[tt] * keep).sum()


CE_CASES = [dict(), dict(eps=0.1), dict(w=True), dict(w=True, eps=0.2, ignore=True), dict(probs=True),
            dict(probs=True, w=True, eps=0.1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_values(isa, dtype):
    rng = np.random.default_rng(2)
    for n, c in [(0, 3), (1, 1), (5, 7), (64, 1000)]:
        x = (rng.standard_normal((n, c)) * 3).astype(dtype)
        for case in CE_CASES:
            w = rng.uniform(0.5, 2, c) if case.get("w") else None
            if case.get("probs"):
                target = rng.dirichlet(np.ones(c), n) if n else np.zeros((0, c))
            else:
                target = rng.integers(0, c, n)
                if case.get("ignore") and n:
                    target[0] = -100
            eps = case.get("eps", 0.0)
            v, den = np_cross_entropy(x.astype(np.float64), target, w, eps)
            for r in REDUCTIONS:
                got = L.cross_entropy(x, target, weight=w, reduction=r, label_smoothing=eps)
                assert got.dtype == dtype
                np.testing.assert_allclose(np.asarray(got), v if r == "none" else _reduce(v, r, den),
                                           rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("r", REDUCTIONS)
@pytest.mark.parametrize("case", range(len(CE_CASES)))
def test_cross_entropy_gradcheck(r, case):
    rng = np.random.default_rng(3)
    spec = CE_CASES[case]
    x = rng.standard_normal((4, 5)) * 2
    w = rng.uniform(0.5, 2, 5) if spec.get("w") else None
    target = rng.dirichlet(np.ones(5), 4) if spec.get("probs") else np.array([1, -100 if spec.get("ignore") else 0, 4, 2])
    assert fnn.autograd.gradcheck(
        lambda a: L.cross_entropy(a, target, weight=w, reduction=r, label_smoothing=spec.get("eps", 0.0)), (x,))


@pytest.mark.parametrize("r", REDUCTIONS)
def test_nll_loss(r):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 3, -100, 1, 2, 3])
    w = rng.uniform(0.5, 2, 4)
    keep = t != -100
    v = np.where(keep, -w[np.where(keep, t, 0)] * x[np.arange(6), np.where(keep, t, 0)], 0)
    np.testing.assert_allclose(np.asarray(L.nll_loss(x, t, weight=w, reduction=r)), _reduce(v, r, (w[t[keep]]).sum()))
    assert fnn.autograd.gradcheck(lambda a: L.nll_loss(a, t, weight=w, reduction=r), (x,))


def test_cross_entropy_large_logits_and_thread_invariance(threads):
    x = np.array([[1e4, 0, -1e4], [-1e4, 1e4, 0]], np.float32)
    xt = fnn.asarray(x)
    xt.requires_grad = True
    loss = L.cross_entropy(xt, np.array([0, 0]))
    loss.backward()
    np.testing.assert_allclose(float(loss), 1e4, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(xt.grad), [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-6)
    big = np.random.default_rng(5).standard_normal((300, 4000)).astype(np.float32)
    results = []
    for t in (1, 2):
        fnn.set_num_threads(t)
        results.append((float(L.mse_loss(big, big * 0.5)), float(L.cross_entropy(big, np.arange(300)))))
    assert results[0] == results[1]


def test_bad_input():
    x = np.zeros((4, 10), np.float32)
    with pytest.raises(ValueError, match=r"label 10 at index 2 is out of range for 10 classes"):
        L.cross_entropy(x, np.array([0, 1, 10, 3]))
    with pytest.raises(ValueError, match=r"label -1 .* 10 classes"):
        L.nll_loss(x, np.array([0, -1, 2, 3]))
    with pytest.raises(TypeError, match="class targets must be integers"):
        L.cross_entropy(x, np.array([0.0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not match input shape \(4, 10\)"):
        L.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"probability target shape \(4, 9\)"):
        L.cross_entropy(x, np.zeros((4, 9)))
    with pytest.raises(ValueError, match=r"weight must have shape \(10,\)"):
        L.cross_entropy(x, np.array([0, 1, 2, 3]), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"input shape \(3,\) and target shape \(4,\) differ"):
        L.mse_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        L.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction must be"):
        L.l1_loss(np.zeros(3), np.zeros(3), reduction="avg")
    with pytest.raises(TypeError, match="input must be float32 or float64"):
        L.mse_loss(np.zeros(3, np.int64), np.zeros(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        L.cross_entropy(x, np.array([0, 1, 2, 3]), label_smoothing=1.5)


def test_bce_with_logits_is_stable():
    x = np.array([-1e4, -50, 0, 50, 1e4, -np.inf, np.inf], np.float32)
    t = np.array([1, 0, 0.5, 1, 0, 0, 1], np.float32)
    v = np.asarray(L.binary_cross_entropy_with_logits(x, t, reduction="none"))
    np.testing.assert_allclose(v, [1e4, 0, np.log(2), 0, 1e4, 0, 0], rtol=1e-6, atol=1e-6)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((8, 5)), rng.standard_normal((8, 5))
    p, b = rng.uniform(0.05, 0.95, (8, 5)), (rng.uniform(size=(8, 5)) > 0.5) * 1.0
    w, pw = rng.uniform(0.5, 2, 5), rng.uniform(0.5, 3, 5)
    labels = np.array([0, 4, -100, 2, 3, 1, 1, 0])
    probs = rng.dirichlet(np.ones(5), 8)
    cases = [
        (L.mse_loss, TF.mse_loss, x, y, {}), (L.l1_loss, TF.l1_loss, x, y, {}),
        (L.huber_loss, TF.huber_loss, x, y, dict(delta=0.5)),
        (L.binary_cross_entropy, TF.binary_cross_entropy, p, b, dict(weight=w)),
        (L.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, x, b, dict(weight=w, pos_weight=pw)),
        (L.cross_entropy, TF.cross_entropy, x, labels, dict(weight=w, label_smoothing=0.1)),
        (L.cross_entropy, TF.cross_entropy, x, probs, dict(weight=w, label_smoothing=0.2)),
        (L.nll_loss, TF.nll_loss, x, labels, dict(weight=w)),
    ]
    for ours, theirs, a, t, kw in cases:
        for r in REDUCTIONS:
            ta = torch.tensor(a, requires_grad=True)
            tkw = {k: torch.tensor(v) for k, v in kw.items() if isinstance(v, np.ndarray)}
            tkw.update({k: v for k, v in kw.items() if not isinstance(v, np.ndarray)})
            tl = theirs(ta, torch.tensor(t), reduction=r, **tkw)
            tl.backward(torch.ones_like(tl) * 0.7)
            fa = fnn.asarray(a.copy())
            fa.requires_grad = True
            fl = ours(fa, t, reduction=r, **kw)
            fl.backward(fnn.asarray(np.full(fl.shape, 0.7)))
            np.testing.assert_allclose(np.asarray(fl), tl.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"{ours.__name__} {r}")
            np.testing.assert_allclose(np.asarray(fa.grad), ta.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{ours.__name__} {r}")


# ---------------------------------------------------------------- CUDA devices

KINDS = {"mse": "mse", "l1": "l1", "huber": "huber", "bce": "bce", "bce_logits": "bce_with_logits"}


def _tol(dtype, scale=1.0):
    return dict(rtol=1e-5, atol=1e-6 * scale) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13 * scale)


def _host(t):
    return np.asarray(t.cpu())


def _dev(device):
    """The name a tensor on `device` reports."""
    return "cpu" if device == "cpu" else "cuda:0"


def _on(a, device):
    return None if a is None else fnn.asarray(a, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(KINDS))
def test_device_pointwise_matches_cpu(device, dtype, name):
    rng = np.random.default_rng(11)
    kind = getattr(_C.PointwiseLoss, KINDS[name])
    for shape in [(0,), (1,), (7, 3), (300, 50)]:  # 15000 elements: several partial sums
        x, t = _inputs(name, shape, dtype, rng)
        weighted = name in ("bce", "bce_logits") and len(shape) == 2
        w = rng.uniform(0.5, 2, shape[-1:]).astype(dtype) if weighted else None  # broadcast along rows
        pw = rng.uniform(0.5, 2, shape[-1:]).astype(dtype) if weighted and name == "bce_logits" else None
        for r in REDUCTIONS:
            want = np.asarray(_C._pointwise_loss(kind, x, t, w, pw, r, 0.7))
            got = _C._pointwise_loss(kind, _on(x, device), _on(t, device), _on(w, device), _on(pw, device), r, 0.7)
            assert got.device == _dev(device) and got.dtype == dtype and got.shape == want.shape
            np.testing.assert_allclose(_host(got), want, **_tol(dtype, x.size), err_msg=f"{name} {shape} {r}")
            dy = rng.standard_normal(shape).astype(dtype) if r == "none" else np.array(1.5, dtype)
            want = np.asarray(_C._pointwise_loss_backward(kind, dy, x, t, w, pw, r, 0.7))
            got = _C._pointwise_loss_backward(kind, _on(dy, device), _on(x, device), _on(t, device), _on(w, device),
                                              _on(pw, device), r, 0.7)
            np.testing.assert_allclose(_host(got), want, **_tol(dtype), err_msg=f"{name} {shape} {r} backward")
    with pytest.raises(ValueError, match="between 0 and 1"):
        L.binary_cross_entropy(_on(np.array([0.5, 1.5], dtype), device), _on(np.array([0.0, 1.0], dtype), device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_device_cross_entropy_matches_cpu(device, dtype):
    rng = np.random.default_rng(12)
    # 2000 classes: a block per row; the others a warp per row.
    for n, c in [(0, 3), (1, 1), (5, 7), (64, 1000), (6, 2000)]:
        x = (rng.standard_normal((n, c)) * 3).astype(dtype)
        if n > 1:
            x[1, 0] = 1e4  # a huge logit
        for case in CE_CASES:
            w = rng.uniform(0.5, 2, c).astype(dtype) if case.get("w") else None
            if case.get("probs"):
                target = (rng.dirichlet(np.ones(c), n) if n else np.zeros((0, c))).astype(dtype)
            else:
                target = rng.integers(0, c, n)
                if case.get("ignore") and n:
                    target[0] = -100
            eps = case.get("eps", 0.0)
            for r in REDUCTIONS:
                what = f"{n}x{c} {case} {r}"
                loss, lse = _C._cross_entropy(x, target, w, r, -100, eps)
                loss_d, lse_d = _C._cross_entropy(_on(x, device), _on(target, device), _on(w, device), r, -100, eps)
                assert loss_d.device == _dev(device) and lse_d.device == _dev(device) and loss_d.shape == loss.shape
                np.testing.assert_allclose(_host(loss_d), np.asarray(loss), **_tol(dtype, 10), err_msg=what)
                np.testing.assert_allclose(_host(lse_d), np.asarray(lse), **_tol(dtype), err_msg=what)
                dy = rng.standard_normal(n).astype(dtype) if r == "none" else np.array(0.7, dtype)
                dx = np.asarray(_C._cross_entropy_backward(dy, x, target, w, lse, r, -100, eps))
                dx_d = _C._cross_entropy_backward(_on(dy, device), _on(x, device), _on(target, device), _on(w, device),
                                                  lse_d, r, -100, eps)
                np.testing.assert_allclose(_host(dx_d), dx, **_tol(dtype), err_msg=what + " backward")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("r", REDUCTIONS)
def test_device_nll_loss_matches_cpu(device, r):
    rng = np.random.default_rng(13)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((6, 4)).astype(dtype)
        t = np.array([0, 3, -100, 1, 2, 3])
        w = rng.uniform(0.5, 2, 4).astype(dtype)
        for weight in (None, w):
            want = np.asarray(_C._nll_loss(x, t, weight, r, -100))
            got = _C._nll_loss(_on(x, device), _on(t, device), _on(weight, device), r, -100)
            assert got.device == _dev(device)
            np.testing.assert_allclose(_host(got), want, **_tol(dtype))
            dy = rng.standard_normal(6).astype(dtype) if r == "none" else np.array(1.3, dtype)
            want = np.asarray(_C._nll_loss_backward(dy, x, t, weight, r, -100))
            got = _C._nll_loss_backward(_on(dy, device), _on(x, device), _on(t, device), _on(weight, device), r, -100)
            np.testing.assert_allclose(_host(got), want, **_tol(dtype))


@pytest.mark.parametrize("device", DEVICES)
def test_device_labels_out_of_range_raise(device):
    x = _on(np.zeros((4, 10), np.float32), device)
    with pytest.raises(ValueError, match=r"label 10 at index 2 is out of range for 10 classes"):
        L.cross_entropy(x, _on(np.array([0, 1, 10, 12]), device))
    with pytest.raises(ValueError, match=r"label -1 at index 1 .* 10 classes"):
        L.nll_loss(x, _on(np.array([0, -1, 2, 3], np.int32), device))
    with pytest.raises(ValueError, match=r"label -5 at index 3 .* ignore_index=-100"):
        _C._cross_entropy_backward(np.array(1.0, np.float32), x, _on(np.array([0, -100, 2, -5]), device), None,
                                   _on(np.zeros(4, np.float32), device), "mean", -100, 0.0)
    if device != "cpu":
        with pytest.raises(ValueError, match="one device"):
            L.cross_entropy(x, np.array([0, 1, 2, 3]))


@pytest.mark.parametrize("device", DEVICES)
def test_device_losses_backward_through_autograd(device):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    t = rng.integers(0, 5, 8)
    grads = {}
    for where in ("cpu", device):
        xt = fnn.asarray(x, device=where, requires_grad=True)
        L.cross_entropy(xt, _on(t, where), label_smoothing=0.1).backward()
        grads[where] = _host(xt.grad)
    np.testing.assert_allclose(grads[device], grads["cpu"], **_tol(np.float32))
    p = fnn.asarray(rng.uniform(0.1, 0.9, (8, 5)).astype(np.float32), device=device)
    loss = fnn.losses.get("binary_crossentropy")(np.round(rng.uniform(size=(8, 5))), p)  # a host target moves
    assert loss.device == _dev(device)
