"""Learning-rate schedules against their closed-form formulas (and torch.optim.lr_scheduler where
installed), composition, checkpoints, and their effect on the optimizer's step."""
import math

import numpy as np
import pytest

import fusednn as fnn
from fusednn import optim
from fusednn.optim import lr_scheduler as S

from conftest import DEVICES

EPOCHS = 40


def make_opt(lr=0.1, cls=optim.SGD, **kw):
    p = fnn.zeros(3)
    p.requires_grad = True
    return cls([p], lr=lr, **kw)


def trace(sched, n=EPOCHS):
    lrs = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        assert lrs[-1] == sched.optimizer.param_groups[0]["lr"]
    return np.array(lrs)


FORMULAS = [
    (lambda o: S.StepLR(o, step_size=7, gamma=0.5), lambda t: 0.1 * 0.5 ** (t // 7)),
    (lambda o: S.MultiStepLR(o, milestones=[15, 5, 30], gamma=0.2),
     lambda t: 0.1 * 0.2 ** sum(t >= m for m in (5, 15, 30))),
    (lambda o: S.ExponentialLR(o, gamma=0.9), lambda t: 0.1 * 0.9 ** t),
    (lambda o: S.CosineAnnealingLR(o, T_max=25, eta_min=0.001),
     lambda t: 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * t / 25)) / 2),
    (lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8),
     lambda t: 0.1 * (0.25 + 0.75 * min(t, 8) / 8)),
    (lambda o: S.LambdaLR(o, lambda t: 1 / (1 + t)), lambda t: 0.1 / (1 + t)),
]


@pytest.mark.parametrize("make,formula", FORMULAS, ids=["step", "multistep", "exponential", "cosine", "linear",
                                                        "lambda"])
def test_schedule_matches_formula(make, formula):
    lrs = trace(make(make_opt()))
    np.testing.assert_allclose(lrs, [formula(t) for t in range(EPOCHS + 1)], rtol=1e-10, atol=1e-15)


def test_warmup_then_cosine_sequential_and_chained():
    opt = make_opt()
    sched = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=5),
                                 S.CosineAnnealingLR(opt, T_max=20)], milestones=[5])
    want = [0.1 * (0.1 + 0.9 * t / 5) if t < 5 else 0.05 * (1 + math.cos(math.pi * (t - 5) / 20))
            for t in range(26)]
    np.testing.assert_allclose(trace(sched, 25), want, rtol=1e-10)
    opt = make_opt()
    chained = S.ChainedScheduler([S.LinearLR(opt, start_factor=0.5, total_iters=4), S.ExponentialLR(opt, 0.9)])
    want = [0.1 * (0.5 + 0.5 * min(t, 4) / 4) * 0.9 ** t for t in range(21)]
    np.testing.assert_allclose(trace(chained, 20), want, rtol=1e-10)


@pytest.mark.parametrize("three_phase,strategy", [(False, "cos"), (True, "linear")])
def test_one_cycle(three_phase, strategy):
    opt = make_opt(cls=optim.Adam)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=50, pct_start=0.3, anneal_strategy=strategy,
                         three_phase=three_phase)
    lrs = trace(sched, 49)
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs.max() == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert int(np.argmax(lrs)) == 14
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)  # momentum cycles back up
    with pytest.raises(ValueError, match="Tried to step 51 times"):
        sched.step()
        sched.step()
    torch = pytest.importorskip("torch")
    tp = torch.zeros(3, requires_grad=True)
    topt = torch.optim.Adam([tp])
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=1.0, total_steps=50, anneal_strategy=strategy,
                                             three_phase=three_phase)
    theirs = [ts.get_last_lr()[0]]
    for _ in range(49):
        topt.step()
        ts.step()
        theirs.append(ts.get_last_lr()[0])
    np.testing.assert_allclose(lrs, theirs, rtol=1e-12)


def test_matches_torch_schedulers():
    torch = pytest.importorskip("torch")
    T = torch.optim.lr_scheduler
    pairs = [(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01), lambda o: T.CosineAnnealingLR(o, 10, 0.01)),
             (lambda o: S.StepLR(o, 3, 0.5), lambda o: T.StepLR(o, 3, 0.5)),
             (lambda o: S.LinearLR(o, 0.2, 0.9, 6), lambda o: T.LinearLR(o, 0.2, 0.9, 6))]
    for ours, theirs in pairs:
        tp = torch.zeros(3, requires_grad=True)
        topt = torch.optim.SGD([tp], lr=0.1)
        ts = theirs(topt)
        want = [ts.get_last_lr()[0]]
        for _ in range(EPOCHS):
            topt.step()
            ts.step()
            want.append(ts.get_last_lr()[0])
        np.testing.assert_allclose(trace(ours(make_opt())), want, rtol=1e-12)


def test_reduce_on_plateau():
    opt = make_opt(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    metrics = [10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    maxi = S.ReduceLROnPlateau(make_opt(lr=1.0), mode="max", patience=0, threshold=0.1, threshold_mode="abs")
    maxi.step(1.0)
    maxi.step(1.05)  # not better by 0.1
    assert maxi.get_last_lr() == [0.1]
    with pytest.raises(ValueError, match="Factor"):
        S.ReduceLROnPlateau(opt, factor=1.5)


@pytest.mark.parametrize("device", DEVICES)
def test_reduce_on_plateau_takes_a_0d_tensor_metric_on_any_device(device):
    sched = S.ReduceLROnPlateau(make_opt(lr=1.0), patience=0, factor=0.5)
    for metric in (2.0, 1.0, 1.0):
        sched.step(fnn.asarray(np.array(metric, np.float32), device=device))
    assert sched.get_last_lr() == [0.5]
    assert sched.best == 1.0 and type(sched.best) is float  # kept as a number, not a device tensor


def test_scheduler_drives_optimizer_step_and_resumes():
    opt = make_opt(lr=1.0)
    p = opt.param_groups[0]["params"][0]
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):  # per-batch use: step the optimizer, then the schedule
        p.grad = fnn.ones(3)
        opt.step()
        sched.step()
    np.testing.assert_allclose(np.asarray(p), -(1 + 0.5 + 0.25))
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3
    opt2 = make_opt(lr=1.0)  # resume as in torch: build both, then load both
    sched2 = S.StepLR(opt2, step_size=1, gamma=0.5)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == [0.0625]
    lam = S.LambdaLR(make_opt(), lambda t: 0.5)
    assert "lr_lambdas" not in lam.state_dict()


def test_bad_arguments():
    opt = make_opt()
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="start_factor"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="milestones"):
        S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(make_opt(), step_size=2, last_epoch=5)
    with pytest.raises(ValueError, match="momentum or betas"):
        S.OneCycleLR(make_opt(cls=optim.Adagrad), max_lr=1.0, total_steps=10)
