"""Fused optimizers against NumPy float64 implementations of torch.optim's published rules (and against
torch itself where installed), checkpoints, parameter groups, gradient clipping and regularizers; on CUDA
devices against the CPU on the same data, and optimizer state following parameters moved or cast in place."""
import math

import numpy as np
import pytest

import fusednn as fnn
from fusednn import nn, optim
from fusednn.nn import regularizers
from fusednn.nn.utils import clip_grad_norm_, clip_grad_value_

from conftest import DEVICES

SHAPES = [(3, 5), (7,), (1,), (4099,)]  # odd sizes; the last spans two blocks of the step loop
STEPS = 20


# ---- NumPy float64 references: torch.optim's update rules, written from their documentation ----
def reference_step(algo, h, p, g, s, t):
    """One update of parameter p (in place) with gradient g, state dict s, at step t (1-based)."""
    g = -g if h.get("maximize") else g.copy()
    wd = h.get("weight_decay", 1e-2 if algo == "adamw" else 0.0)
    if algo in ("adam", "adamw", "nadam") and (algo == "adamw" or h.get("decoupled_weight_decay")):
        p *= 1 - h["lr"] * wd
    elif wd:
        g = g + wd * p
    lr = h["lr"]
    if algo == "sgd":
        mom, damp = h.get("momentum", 0.0), h.get("dampening", 0.0)
        if mom:
            s["b"] = g.copy() if t == 1 else mom * s["b"] + (1 - damp) * g
            g = g + mom * s["b"] if h.get("nesterov") else s["b"]
        p -= lr * g
    elif algo in ("adam", "adamw"):
        b1, b2 = h.get("betas", (0.9, 0.999))
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        v = s["v"]
        if h.get("amsgrad"):
            s["vmax"] = v = np.maximum(s.get("vmax", 0), v)
        p -= lr / (1 - b1 ** t) * s["m"] / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + h.get("eps", 1e-8))
    elif algo == "rmsprop":
        alpha, eps, mom = h.get("alpha", 0.99), h.get("eps", 1e-8), h.get("momentum", 0.0)
        s["sq"] = alpha * s.get("sq", 0) + (1 - alpha) * g * g
        var = s["sq"]
        if h.get("centered"):
            s["ga"] = alpha * s.get("ga", 0) + (1 - alpha) * g
            var = var - s["ga"] ** 2
        q = g / (np.sqrt(var) + eps)
        if mom:
            s["b"] = mom * s.get("b", 0) + q
            q = s["b"]
        p -= lr * q
    elif algo == "adagrad":
        s["sum"] = s.get("sum", h.get("initial_accumulator_value", 0.0)) + g * g
        clr = lr / (1 + (t - 1) * h.get("lr_decay", 0.0))
        p -= clr * g / (np.sqrt(s["sum"]) + h.get("eps", 1e-10))
    elif algo == "adamax":
        b1, b2 = h.get("betas", (0.9, 0.999))
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + h.get("eps", 1e-8))
        p -= lr / (1 - b1 ** t) * s["m"] / s["u"]
    elif algo == "nadam":
        b1, b2 = h.get("betas", (0.9, 0.999))
        psi = h.get("momentum_decay", 4e-3)
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        s["prod"] = s.get("prod", 1.0) * mu
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        denom = np.sqrt(s["v"] / (1 - b2 ** t)) + h.get("eps", 1e-8)
        p -= lr * (1 - mu) / (1 - s["prod"]) * g / denom + lr * mu_next / (1 - s["prod"] * mu_next) * s["m"] / denom


CASES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("adam", dict(lr=0.01)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("adamw", dict(lr=0.01, weight_decay=0.1)),
    ("adamw", dict(lr=0.01, amsgrad=True)),
    ("rmsprop", dict(lr=0.01)),
    ("rmsprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, momentum=0.9)),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.05)),
    ("adamax", dict(lr=0.01, weight_decay=0.1)),
    ("nadam", dict(lr=0.01, weight_decay=0.1)),
    ("nadam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
]
IDS = [f"{a}-{'-'.join(f'{k}={v}' for k, v in h.items())}" for a, h in CASES]


def make_problem(dtype, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(STEPS)]
    return init, grads


def leaves(arrays, dtype):
    out = [fnn.asarray(a.astype(dtype)) for a in arrays]
    for p in out:
        p.requires_grad = True
    return out


def run_fused(algo, h, init, grads, dtype, steps=None):
    params = leaves(init, dtype)
    opt = optim.get(algo, params, **h)
    for gs in grads[:steps]:
        for p, g in zip(params, gs):
            p.grad = fnn.asarray(g.astype(dtype))
        opt.step()
    return params, opt


def run_reference(algo, h, init, grads):
    params = [a.astype(np.float64) for a in init]
    states = [{} for _ in params]
    for t, gs in enumerate(grads, 1):
        for p, g, s in zip(params, gs, states):
            reference_step(algo, h, p, g, s, t)
    return params


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-6), (np.float32, 2e-4)])
@pytest.mark.parametrize("algo,h", CASES, ids=IDS)
def test_matches_reference_rule(algo, h, dtype, rtol, isa):
    init, grads = make_problem(dtype)
    params, _ = run_fused(algo, h, init, grads, dtype)
    for got, want in zip(params, run_reference(algo, h, init, grads)):
        assert got.dtype == dtype
        np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("algo,h", CASES, ids=IDS)
def test_matches_torch(algo, h):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # small tensors: a thread team only adds wake-up time on a loaded machine
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad, "adamax": torch.optim.Adamax,
           "nadam": torch.optim.NAdam}[algo]
    init, grads = make_problem(np.float64, seed=1)
    params, _ = run_fused(algo, h, init, grads, np.float64)
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    topt = cls(theirs, **h)
    for gs in grads:
        for p, g in zip(theirs, gs):
            p.grad = torch.tensor(g)
        topt.step()
    rtol = 1e-6 if algo == "nadam" else 1e-10  # torch keeps NAdam's momentum product in float32
    for got, want in zip(params, theirs):
        np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("algo,h", CASES, ids=IDS)
def test_resume_from_state_dict_is_bit_identical(algo, h):
    init, grads = make_problem(np.float32, seed=2)
    full, _ = run_fused(algo, h, init, grads, np.float32)
    half, opt = run_fused(algo, h, init, grads, np.float32, steps=STEPS // 2)
    saved = opt.state_dict()
    snapshot = [np.array(p) for p in half]
    opt.step()  # later steps must not change what was saved
    resumed = leaves(snapshot, np.float32)
    opt2 = optim.get(algo, resumed, **h)
    opt2.load_state_dict(saved)
    for gs in grads[STEPS // 2:]:
        for p, g in zip(resumed, gs):
            p.grad = fnn.asarray(g.astype(np.float32))
        opt2.step()
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_state_dict_layout_and_bad_loads():
    params = leaves([np.ones(3), np.ones((2, 2))], np.float32)
    opt = optim.Adam(params, lr=0.1, amsgrad=True)
    for p in params:
        p.grad = fnn.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][0]["lr"] == 0.1
    assert sd["state"][1]["step"] == 1.0 and sd["state"][1]["exp_avg"].shape == (2, 2)
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    other = optim.Adam([leaves([np.ones(3)], np.float32)[0]], lr=0.1, amsgrad=True)
    with pytest.raises(ValueError, match="group of 2 parameters"):
        other.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam(params, lr=0.1).load_state_dict({"state": {}, "param_groups": []})


def test_user_tensors_see_updates_and_state_is_flat():
    w, b = leaves([np.ones((4, 3)), np.zeros(3)], np.float32)
    view = np.asarray(w)  # a NumPy view of the user's parameter
    opt = optim.SGD([w, b], lr=0.5, momentum=0.9)
    w.grad, b.grad = fnn.ones_like(w), fnn.ones_like(b)
    opt.step()
    np.testing.assert_array_equal(view, np.full((4, 3), 0.5, np.float32))
    np.testing.assert_array_equal(np.asarray(b), np.full(3, -0.5, np.float32))
    assert opt.param_groups[0]["params"][0] is w
    bufs = [opt.state[p]["momentum_buffer"] for p in (w, b)]
    assert bufs[1]._data_ptr - bufs[0]._data_ptr == 16 * 4  # one buffer, 64-byte aligned views
    assert float(opt.state[w]["step"]) == 1.0


def test_grad_none_is_skipped_with_its_own_step_count():
    torch = pytest.importorskip("torch")
    a, b = leaves([np.ones(5), np.ones(5)], np.float64)
    ta, tb = (torch.ones(5, dtype=torch.float64, requires_grad=True) for _ in range(2))
    opt, topt = optim.Adam([a, b], lr=0.1), torch.optim.Adam([ta, tb], lr=0.1)
    for step in range(4):
        g = np.full(5, step + 1.0)
        a.grad, ta.grad = fnn.asarray(g), torch.tensor(g)
        b.grad = fnn.asarray(g) if step >= 2 else None
        tb.grad = torch.tensor(g) if step >= 2 else None
        opt.step()
        topt.step()
        if step < 2:
            np.testing.assert_array_equal(np.asarray(b), np.ones(5))
    assert float(opt.state[b]["step"]) == 2.0 and float(opt.state[a]["step"]) == 4.0
    np.testing.assert_allclose(np.asarray(b), tb.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(a), ta.detach().numpy(), rtol=1e-12)


def test_param_groups_with_their_own_options():
    init, grads = make_problem(np.float64, seed=3, shapes=[(5,), (6,)])
    params = leaves(init, np.float64)
    opt = optim.SGD([{"params": [params[0]]}, {"params": params[1], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.5
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = fnn.asarray(g)
        opt.step()
    want0 = run_reference("sgd", dict(lr=0.1), init[:1], [gs[:1] for gs in grads])
    want1 = run_reference("sgd", dict(lr=0.01, momentum=0.5), init[1:], [gs[1:] for gs in grads])
    np.testing.assert_allclose(np.asarray(params[0]), want0[0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(params[1]), want1[0], rtol=1e-12)


def test_add_param_group_lr_changes_and_late_momentum():
    a, b = leaves([np.ones(3), np.ones(3)], np.float64)
    opt = optim.SGD([a], lr=1.0)
    opt.add_param_group({"params": [b], "lr": 2.0})
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})
    a.grad = b.grad = fnn.ones(3, dtype=np.float64)
    opt.param_groups[0]["lr"] = 0.5  # what a scheduler does
    opt.step()
    np.testing.assert_array_equal(np.asarray(a), np.full(3, 0.5))
    np.testing.assert_array_equal(np.asarray(b), np.full(3, -1.0))
    opt.param_groups[0]["momentum"] = 0.9  # switched on later: a buffer is allocated
    opt.step()
    opt.step()
    np.testing.assert_allclose(np.asarray(a), 0.5 - 0.5 * (1 + 1.9))


def test_zero_grad_step_closure_and_threads(threads):
    init, grads = make_problem(np.float32, seed=4, shapes=[(70001,), (3,)])
    results = []
    for n in (1, 2):
        fnn.set_num_threads(n)
        params, _ = run_fused("adam", dict(lr=0.01, amsgrad=True), init, grads, np.float32)
        results.append([np.array(p) for p in params])
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)
    p = leaves([np.ones(2)], np.float32)[0]
    opt = optim.SGD([p], lr=1.0)
    p.grad = fnn.ones(2)
    assert opt.step(lambda: 42.0) == 42.0
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(np.asarray(p.grad), np.zeros(2))
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradients: nothing changes
    np.testing.assert_array_equal(np.asarray(p), np.zeros(2))


def test_get_by_name():
    p = leaves([np.ones(2)], np.float32)
    for name, cls in [("sgd", optim.SGD), ("Adam", optim.Adam), ("adamw", optim.AdamW), ("rmsprop", optim.RMSprop),
                      ("adagrad", optim.Adagrad), ("adamax", optim.Adamax), ("nadam", optim.NAdam)]:
        assert type(optim.get(name, p, lr=0.1)) is cls
    opt = optim.SGD(p, lr=0.1)
    assert optim.get(opt, p) is opt
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'.*adagrad, adam, adamax, adamw, nadam, rmsprop, sgd"):
        optim.get("adamz", p)


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD(p, lr=-0.1), "learning rate"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "eps"),
    (lambda p: optim.Adam(p, weight_decay=float("nan")), "weight decay"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "alpha"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "lr decay"),
    (lambda p: optim.Adam([], lr=0.1), "empty parameter list"),
])
def test_bad_options(make, match):
    p = leaves([np.ones(2)], np.float32)
    with pytest.raises(ValueError, match=match):
        make(p)


def test_bad_parameters_and_gradients():
    with pytest.raises(TypeError, match="float32/float64"):
        optim.SGD([fnn.ones(3, dtype=np.int64)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(fnn.ones(3), lr=0.1)
    p = leaves([np.ones(3)], np.float32)[0]
    opt = optim.Adam([p])
    p.grad = fnn.ones(4)
    with pytest.raises(ValueError, match="parameter 0 has dtype float32 and 3 elements, but its gradient has "
                                         "dtype float32 and 4 elements"):
        opt.step()
    p.grad = fnn.ones(3, dtype=np.float64)
    with pytest.raises(ValueError, match="gradient has dtype float64"):
        opt.step()
    np.testing.assert_array_equal(np.asarray(p), np.ones(3))


# ---- gradient clipping ----
def grads_with(values):
    params = []
    for v in values:
        p = fnn.zeros(np.shape(v), dtype=np.asarray(v).dtype)
        p.requires_grad = True
        p.grad = fnn.asarray(np.array(v))
        params.append(p)
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_clip_grad_norm_value_and_scaling(norm_type, dtype, isa):
    rng = np.random.default_rng(5)
    values = [rng.standard_normal(n).astype(dtype) for n in (5000, 1, 17, 0, 9000)]
    params = grads_with(values) + [fnn.zeros(2)]  # one without a gradient
    flat = np.concatenate(values).astype(np.float64)
    want = np.abs(flat).max() if math.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(float(total), want, rtol=1e-6 if dtype == np.float32 else 1e-12)
    coef = 1.0 / (float(total) + 1e-6)
    for p, v in zip(params, values):
        np.testing.assert_allclose(np.asarray(p.grad), v * coef, rtol=1e-6)


def test_clip_grad_norm_below_max_shared_grads_and_threads(threads):
    (p,) = grads_with([np.array([3.0, 4.0])])
    assert float(clip_grad_norm_(p, max_norm=10)) == pytest.approx(5.0)
    np.testing.assert_array_equal(np.asarray(p.grad), [3.0, 4.0])
    q = fnn.zeros(2, dtype=np.float64)
    q.grad = p.grad  # one gradient tensor shared by two parameters: counted twice, scaled once
    total = float(clip_grad_norm_([p, q], max_norm=1.0))
    assert total == pytest.approx(math.sqrt(50))
    np.testing.assert_allclose(np.asarray(p.grad), np.array([3.0, 4.0]) / (total + 1e-6))
    big = np.random.default_rng(6).standard_normal(300001).astype(np.float32)
    norms = []
    for n in (1, 2):
        fnn.set_num_threads(n)
        norms.append(float(clip_grad_norm_(grads_with([big]), max_norm=1e9)))
    assert norms[0] == norms[1]


@pytest.mark.parametrize("bad,expect", [(np.nan, math.nan), (np.inf, math.inf)])
def test_clip_grad_norm_nonfinite(bad, expect):
    params = grads_with([np.array([1.0, bad, 2.0], np.float32), np.ones(3, np.float32)])
    total = float(clip_grad_norm_(params, max_norm=1.0))
    assert (math.isnan(total) and math.isnan(expect)) or total == expect
    assert np.isnan(np.asarray(params[0].grad)[1])  # scaled by NaN or 0 * inf, as torch
    params = grads_with([np.array([1.0, bad], np.float32)])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, max_norm=1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(np.asarray(params[0].grad), np.array([1.0, bad], np.float32))
    assert math.isnan(float(clip_grad_norm_(grads_with([np.array([np.nan, np.inf])]), 1.0, norm_type=math.inf)))


def test_clip_bad_input_and_no_grads():
    with pytest.raises(ValueError, match="norm_type must be positive"):
        clip_grad_norm_(grads_with([np.ones(2)]), 1.0, norm_type=0)
    assert float(clip_grad_norm_([fnn.zeros(2)], 1.0)) == 0.0
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_(grads_with([np.ones(2)]), -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value(dtype, isa):
    v = np.array([-3.0, -0.5, 0.0, 0.7, 2.0, np.nan] * 1000, dtype)
    params = grads_with([v, v[:5].copy()])
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(np.asarray(params[0].grad), np.clip(v, -1, 1))
    np.testing.assert_array_equal(np.asarray(params[1].grad), np.clip(v[:5], -1, 1))


# ---- regularizers ----
def test_regularizers_values_and_gradients():
    w = np.array([[0.5, -1.5, 2.0], [-0.25, 1.0, 3.0]])
    cases = [(regularizers.L1(0.1), 0.1 * np.abs(w).sum()), (regularizers.L2(0.2), 0.2 * (w ** 2).sum()),
             (regularizers.L1L2(0.1, 0.2), 0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum())]
    for reg, want in cases:
        assert float(reg(fnn.asarray(w))) == pytest.approx(want)
        assert fnn.autograd.gradcheck(reg, [w])
    assert repr(regularizers.L1L2(0.1, 0.2)) == "L1L2(l1=0.1, l2=0.2)"
    a, b = leaves([w, -w[0]], np.float64)
    penalty = regularizers.l1_penalty([a, b], 0.5)
    assert float(penalty) == pytest.approx(0.5 * (np.abs(w).sum() + np.abs(w[0]).sum()))
    penalty.backward()
    np.testing.assert_allclose(np.asarray(a.grad), 0.5 * np.sign(w))
    np.testing.assert_allclose(np.asarray(b.grad), 0.5 * np.sign(-w[0]))


# ---- devices: the fused step and clipping on CUDA tensors against the CPU on the same data ----
DEVICE_SHAPES = [(3, 5), (7,), (1,), (0,), (20001,)]  # odd sizes; the last spans three chunks of a device launch


def host(t):
    return np.asarray(t.cpu(), dtype=np.float64)


def run_on(device, algo, h, init, grads, dtype, steps=None):
    """run_fused with parameters and gradients on ``device``."""
    params = [fnn.asarray(a.astype(dtype), device=device) for a in init]
    for p in params:
        p.requires_grad = True
    opt = optim.get(algo, params, **h)
    for gs in grads[:steps]:
        for p, g in zip(params, gs):
            p.grad = fnn.asarray(g.astype(dtype), device=device)
        opt.step()
    return params, opt


# float32 rounding differs a little between the backends (the compilers contract a * b + c into FMAs in
# different places); float64 shows that the rules are the same. The values are O(1), so rounding differences
# of sums that cancel near zero are judged on that scale (atol = rtol).
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-6), (np.float32, 1e-5)])
@pytest.mark.parametrize("algo,h", CASES, ids=IDS)
def test_device_step_matches_cpu(algo, h, dtype, rtol, device):
    init, grads = make_problem(dtype, seed=7, shapes=DEVICE_SHAPES)
    want, want_opt = run_on("cpu", algo, h, init, grads, dtype)
    got, opt = run_on(device, algo, h, init, grads, dtype)
    for p, q in zip(got, want):
        assert p.device == fnn.cuda._device_name(device) and p.dtype == dtype
        np.testing.assert_allclose(host(p), host(q), rtol=rtol, atol=rtol)
        assert set(opt.state[p]) == set(want_opt.state[q])
        for name, value in want_opt.state[q].items():
            if name != "step":
                assert opt.state[p][name].device == p.device
            np.testing.assert_allclose(host(opt.state[p][name]), host(value), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algo,h", [CASES[i] for i in (1, 4, 10, 14)], ids=[IDS[i] for i in (1, 4, 10, 14)])
def test_device_state_dict_round_trips_through_the_host(algo, h, device):
    init, grads = make_problem(np.float32, seed=8, shapes=DEVICE_SHAPES)
    full, _ = run_on(device, algo, h, init, grads, np.float32)
    half, opt = run_on(device, algo, h, init, grads, np.float32, steps=STEPS // 2)
    saved = opt.state_dict()
    for entry in saved["state"].values():
        assert all(v.device == "cpu" for v in entry.values() if isinstance(v, fnn.Tensor))
    snapshot = [np.array(p.cpu()) for p in half]
    opt.step()  # later steps must not change what was saved
    for where in (device, "cpu"):  # resume on the device (bit-identical: the same kernel) and on the host
        resumed = [fnn.array(a, device=where) for a in snapshot]
        for p in resumed:
            p.requires_grad = True
        opt2 = optim.get(algo, resumed, **h)
        opt2.load_state_dict(saved)
        for gs in grads[STEPS // 2:]:
            for p, g in zip(resumed, gs):
                p.grad = fnn.asarray(g.astype(np.float32), device=where)
            opt2.step()
        for a, b in zip(full, resumed):
            if where == device:
                np.testing.assert_array_equal(host(a), host(b))
            else:
                np.testing.assert_allclose(host(a), host(b), rtol=1e-5, atol=1e-5)  # O(1) values, as above


class _Pair(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = nn.Parameter(a), nn.Parameter(b)


@pytest.mark.parametrize("device", DEVICES)
def test_state_follows_parameters_moved_in_place(device):
    init, grads = make_problem(np.float32, seed=9, shapes=[(4, 3), (4099,)])
    h = dict(lr=0.01, amsgrad=True)
    want, _ = run_on("cpu", "adam", h, init, grads, np.float32)
    model = _Pair(*(fnn.asarray(a.astype(np.float32)) for a in init))
    params = [model.a, model.b]
    opt = optim.Adam(model.parameters(), **h)
    for t, gs in enumerate(grads):
        if t == STEPS // 2:
            assert model.to(device) is model and model.a is params[0] and model.b is params[1]
        for p, g in zip(params, gs):
            p.grad = fnn.asarray(g.astype(np.float32), device=p.device)
        opt.step()
    for p, q in zip(params, want):
        assert p.device == opt.state[p]["exp_avg"].device == fnn.cuda._device_name(device)
        np.testing.assert_allclose(host(p), host(q), rtol=1e-5, atol=1e-7)


def test_state_follows_a_dtype_cast_in_place():
    """Module.to(dtype) casts the parameters in place; the optimizer casts its state at the next step,
    exactly as loading its state_dict into an optimizer of float64 parameters would."""
    init, grads = make_problem(np.float32, seed=10, shapes=[(3, 2), (5,)])
    model = _Pair(*(fnn.asarray(a.astype(np.float32)) for a in init))
    opt = optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)
    for p, g in zip((model.a, model.b), grads[0]):
        p.grad = fnn.asarray(g.astype(np.float32))
    opt.step()
    twin = [fnn.asarray(np.array(p, np.float64), requires_grad=True) for p in (model.a, model.b)]
    opt2 = optim.RMSprop(twin, lr=0.01, momentum=0.5, centered=True)
    opt2.load_state_dict(opt.state_dict())
    model.double()
    for gs in grads[1:4]:
        for ps in ((model.a, model.b), twin):
            for p, g in zip(ps, gs):
                p.grad = fnn.asarray(g)
        opt.step()
        opt2.step()
    assert opt.state[model.a]["square_avg"].dtype == np.float64 and float(opt.state[model.a]["step"]) == 4.0
    for p, q in zip((model.a, model.b), twin):
        np.testing.assert_array_equal(np.asarray(p), np.asarray(q))


def grads_on(values, device):
    params = []
    for v in values:
        p = fnn.zeros(np.shape(v), dtype=np.asarray(v).dtype, device=device)
        p.requires_grad = True
        p.grad = fnn.asarray(np.array(v), device=device)
        params.append(p)
    return params


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_clip_grad_norm_on_device(norm_type, dtype, device):
    rng = np.random.default_rng(11)
    values = [rng.standard_normal(n).astype(dtype) for n in (5000, 1, 17, 0, 9000, 20001)]
    params = grads_on(values, device)
    flat = np.concatenate(values).astype(np.float64)
    want = np.abs(flat).max() if math.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert total.shape == () and total.dtype == dtype and total.device == "cpu"
    np.testing.assert_allclose(float(total), want, rtol=1e-6 if dtype == np.float32 else 1e-12)
    for p, v in zip(params, values):
        assert p.grad.device == p.device
        np.testing.assert_allclose(host(p.grad), v * (1.0 / (float(total) + 1e-6)), rtol=1e-6)
    again = [float(clip_grad_norm_(grads_on(values, device), 1e9, norm_type)) for _ in range(2)]
    assert again[0] == again[1]  # a fixed reduction order


@pytest.mark.parametrize("device", DEVICES)
def test_clip_grad_on_device_nonfinite_and_value(device):
    params = grads_on([np.array([1.0, np.nan, 2.0], np.float32), np.ones(3, np.float32)], device)
    assert math.isnan(float(clip_grad_norm_(params, max_norm=1.0)))
    assert np.isnan(host(params[1].grad)).all()  # scaled by NaN, as torch
    v = np.array([-3.0, -0.5, 0.0, 0.7, 2.0, np.nan] * 1000, np.float32)
    params = grads_on([v, v[:5].copy()], device)
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(host(params[0].grad), np.clip(v, -1, 1))
    np.testing.assert_array_equal(host(params[1].grad), np.clip(v[:5], -1, 1))


@pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_clip_grad_norm_over_two_devices():
    """Gradients on the host and on a device: one reduction each, combined on the host."""
    rng = np.random.default_rng(12)
    values = [rng.standard_normal(n).astype(np.float32) for n in (300, 7001)]
    params = grads_on(values[:1], "cpu") + grads_on(values[1:], "cuda")
    want = math.sqrt(sum(float((v.astype(np.float64) ** 2).sum()) for v in values))
    total = float(clip_grad_norm_(params, max_norm=0.5))
    assert total == pytest.approx(want, rel=1e-6)
    for p, v in zip(params, values):
        np.testing.assert_allclose(host(p.grad), v * (0.5 / (total + 1e-6)), rtol=1e-6)

