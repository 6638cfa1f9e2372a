"""fusednn.nn: Module mechanics, layers (forward and every gradient against float64 NumPy references and
finite differences), state_dict, freezing, lazy Dense, init statistics, repr and bad input; torch where
installed."""
import math

import numpy as np
import pytest

import fusednn as fnn
import fusednn.nn.functional as F
from fusednn import nn
from fusednn.autograd import gradcheck

from conftest import DEVICES

ACTIVATIONS = [None, "relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu"]


def _np(t):
    return np.asarray(t, dtype=np.float64)


# ---- Linear ----

@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_linear_gradcheck_every_activation(activation):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b, activation), (x, w, b))


def test_linear_nd_input_and_no_bias():
    rng = np.random.default_rng(1)
    assert gradcheck(lambda x, w: F.linear(x, w, None, "tanh"), (rng.standard_normal((2, 3, 4)),
                                                                 rng.standard_normal((5, 4))))
    layer = nn.Linear(4, 5, bias=False)
    y = layer(np.ones((2, 3, 4), np.float32))
    assert y.shape == (2, 3, 5) and layer.bias is None
    np.testing.assert_allclose(np.asarray(y)[1, 2], np.asarray(layer.weight).sum(axis=1), rtol=1e-5)


def test_linear_default_init_bounds_and_layout():
    fnn.random.seed(0)
    layer = nn.Linear(400, 300)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    w, bound = np.asarray(layer.weight), 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(np.asarray(layer.bias)).max() <= bound
    assert isinstance(layer.weight, nn.Parameter) and isinstance(layer.weight, fnn.Tensor)
    assert layer.weight.requires_grad and layer.weight.dtype == np.float32


def test_linear_bad_input_names_shapes():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(3, 4\)"):
        layer(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Linear(4, 3, activation="swoosh")


# ---- an MLP against NumPy float64 ----

def _mlp_reference(x, params, target):
    (w1, b1), (w2, b2), (w3, b3) = params
    z1 = x @ w1.T + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ w2.T + b2
    h2 = np.tanh(z2)
    y = h2 @ w3.T + b3
    loss = 0.5 * ((y - target) ** 2).sum()
    dy = y - target
    grads3 = (dy.T @ h2, dy.sum(0))
    dz2 = (dy @ w3) * (1 - h2 ** 2)
    grads2 = (dz2.T @ h1, dz2.sum(0))
    dz1 = (dz2 @ w2) * (z1 > 0)
    grads1 = (dz1.T @ x, dz1.sum(0))
    return loss, [grads1, grads2, grads3]


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_mlp_forward_backward_matches_numpy(dtype, tol):
    fnn.random.seed(1)
    model = nn.Sequential(nn.Linear(7, 16, activation="relu"), nn.Linear(16, 9, activation="tanh"), nn.Linear(9, 3))
    model.to(dtype)
    rng = np.random.default_rng(2)
    x, target = rng.standard_normal((11, 7)), rng.standard_normal((11, 3))
    y = model(x.astype(dtype))
    diff = y - fnn.asarray(target.astype(dtype))
    loss = (diff * diff).sum() * 0.5
    loss.backward()
    params = [(_np(m.weight), _np(m.bias)) for m in model]
    ref_loss, ref_grads = _mlp_reference(x, params, target)
    assert abs(float(loss) - ref_loss) <= tol * max(1, abs(ref_loss))
    for m, (gw, gb) in zip(model, ref_grads):
        np.testing.assert_allclose(_np(m.weight.grad), gw, atol=tol, rtol=tol)
        np.testing.assert_allclose(_np(m.bias.grad), gb, atol=tol, rtol=tol)


def test_mlp_matches_torch_on_same_weights():
    torch = pytest.importorskip("torch")
    fnn.random.seed(3)
    model = nn.Sequential(nn.Linear(6, 8, activation="gelu"), nn.LayerNorm(8), nn.Linear(8, 4, activation="silu"),
                          nn.Linear(4, 2))
    ref = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(), torch.nn.LayerNorm(8), torch.nn.Linear(8, 4),
                              torch.nn.SiLU(), torch.nn.Linear(4, 2)).double()
    ours = {k: np.asarray(v, dtype=np.float64) for k, v in model.state_dict().items()}
    mapping = {"0": "0", "1": "2", "2": "3", "3": "5"}
    ref.load_state_dict({f"{mapping[k.split('.')[0]]}.{k.split('.')[1]}": torch.from_numpy(v) for k, v in ours.items()})
    model.to(np.float64)
    x = np.random.default_rng(4).standard_normal((5, 6))
    y = model(x)
    y.sum().backward()
    xt = torch.from_numpy(x)
    yt = ref(xt)
    yt.sum().backward()
    np.testing.assert_allclose(np.asarray(y), yt.detach().numpy(), atol=1e-10)
    for name, p in model.named_parameters():
        theirs = dict(ref.named_parameters())[f"{mapping[name.split('.')[0]]}.{name.split('.')[1]}"]
        np.testing.assert_allclose(np.asarray(p.grad), theirs.grad.numpy(), atol=1e-10)


# ---- Module mechanics ----

class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 3)
        self.decoder = nn.Linear(3, 4)
        self.tied = self.encoder  # shared: listed once
        self.scale = nn.Parameter(fnn.ones((1,)))
        self.register_buffer("steps", fnn.zeros((), dtype=np.int64))

    def forward(self, x):
        return self.decoder(self.encoder(x)) * self.scale


def test_registration_traversal_and_dedup():
    net = _Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"]
    assert len(list(net.parameters())) == 5
    assert [n for n, _ in net.named_children()] == ["encoder", "decoder"]
    assert [n for n, _ in net.named_modules()] == ["", "encoder", "decoder"]
    assert [n for n, _ in net.named_buffers()] == ["steps"]
    assert net.num_parameters() == net.count_params() == 1 + 12 + 3 + 12 + 4
    del net.decoder
    assert "decoder.weight" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = fnn.ones((1,))


def test_train_eval_zero_grad():
    net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(np.asarray(net(x)), np.asarray(net[0](x)))  # dropout is the identity in eval
    net.train()
    net(x).sum().backward()
    assert net[0].weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert np.all(np.asarray(net[0].weight.grad) == 0)
    net.zero_grad()
    assert net[0].weight.grad is None


def test_freezing():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    net[0].requires_grad_(False)
    assert len(list(net.parameters())) == 4 and not net[0].trainable and net.trainable
    net(np.ones((2, 3), np.float32)).sum().backward()
    assert net[0].weight.grad is None and net[0].bias.grad is None and net[1].weight.grad is not None
    assert net.num_parameters(trainable_only=True) == 10
    net.trainable = False
    assert not net.trainable
    out = net(np.ones((2, 3), np.float32))
    assert not out.requires_grad


def test_state_dict_round_trip_and_strict_errors():
    fnn.random.seed(5)
    a = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    b = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    a.train()
    a(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "1.num_batches_tracked"]
    weight_before = b[0].weight
    b.load_state_dict(state)
    assert b[0].weight is weight_before  # loaded in place
    for k in state:
        np.testing.assert_array_equal(np.asarray(b.state_dict()[k]), np.asarray(state[k]))
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(np.asarray(a.eval()(x)), np.asarray(b.eval()(x)))
    partial = dict(state)
    del partial["0.bias"]
    partial["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'\].*unexpected keys \['extra'\]"):
        b.load_state_dict(partial)
    assert b.load_state_dict(partial, strict=False) == (["0.bias"], ["extra"])
    bad = dict(state)
    bad["0.weight"] = np.zeros((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"'0.weight'.*\(3, 5\).*\(3, 4\)"):
        b.load_state_dict(bad)


def test_to_dtype_keeps_sharing():
    net = _Net()
    net.to(np.float64)
    assert net.encoder.weight.dtype == np.float64 and net.tied is net.encoder
    assert net.steps.dtype == np.int64
    assert net(np.ones((2, 4))).dtype == np.float64


def test_to_dtype_is_in_place_and_an_optimizer_keeps_working():
    net = _Net()
    params = list(net.parameters())
    opt = fnn.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(np.ones((2, 4), np.float32)).sum().backward()
    opt.step()
    assert net.double() is net and all(a is b for a, b in zip(net.parameters(), params))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    before = [np.array(p) for p in params]
    net.zero_grad()
    net(np.ones((2, 4))).sum().backward()
    opt.step()
    assert all(opt.state[p]["momentum_buffer"].dtype == np.float64 for p in params)
    assert all(not np.array_equal(np.asarray(p), b) for p, b in zip(params, before))


def test_to_cpu_on_a_cpu_model_is_a_no_op_keeping_identity():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    tensors = list(net.parameters()) + list(net.buffers())
    where = [(t._data_ptr, t._version) for t in tensors]
    assert net.to("cpu") is net and net.cpu() is net and net.to("cpu", np.float32) is net
    assert all(a is b for a, b in zip(list(net.parameters()) + list(net.buffers()), tensors))
    assert [(t._data_ptr, t._version) for t in tensors] == where


def test_set_data_rebinds_a_tensor_in_place_and_bumps_its_version():
    a = fnn.arange(3.0)
    a.requires_grad = True
    y = a * a  # saves a for backward
    b = fnn.asarray(np.arange(5, dtype=np.float64))
    version = a._version
    fnn._C._set_data(a, b)
    assert a.shape == (5,) and a.dtype == np.float64 and a.device == "cpu" and a.requires_grad
    assert a._data_ptr == b._data_ptr and a._version > version
    b[1] = 7.0
    assert float(a[1]) == 7.0  # one memory now
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_set_data_sets_the_version_past_both_storages_in_one_step():
    """dst's version ends at max(dst's old, src's) + 1, whichever is larger, without a bump per version."""
    for writes_dst, writes_src in ((5, 2), (1, 7)):
        dst, src = fnn.zeros(3), fnn.zeros(4)
        for _ in range(writes_dst):
            dst += 1
        for _ in range(writes_src):
            src += 1
        old_dst, old_src = dst._version, src._version
        assert (old_dst, old_src) != (0, 0)
        fnn._C._set_data(dst, src)
        assert dst._version == src._version == max(old_dst, old_src) + 1


@pytest.mark.skipif(fnn.cuda.is_available(), reason="a CUDA device is present")
def test_to_cuda_without_a_device_raises_and_leaves_the_model_unchanged():
    net = _Net()
    tensors = list(net.parameters()) + list(net.buffers())
    where = [(t._data_ptr, t.device, t.dtype) for t in tensors]
    for move in (lambda: net.to("cuda"), lambda: net.cuda(), lambda: net.to("cuda:0", np.float64),
                 lambda: nn.Sequential().to("cuda")):
        with pytest.raises(RuntimeError, match="CUDA"):
            move()
    assert [(t._data_ptr, t.device, t.dtype) for t in tensors] == where
    with pytest.raises(TypeError, match="floating dtype"):
        net.to(np.int32)


@pytest.mark.skipif(not fnn.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_module_to_keeps_identity_and_the_optimizer_updates_in_place():
    fnn.random.seed(5)
    net = nn.Sequential(nn.Linear(4, 8, activation="relu"), nn.BatchNorm1d(8), nn.Linear(8, 2))
    twin = nn.Sequential(nn.Linear(4, 8, activation="relu"), nn.BatchNorm1d(8), nn.Linear(8, 2))
    twin.load_state_dict(net.state_dict())
    params, buffers = list(net.parameters()), list(net.buffers())
    opt, opt_twin = fnn.optim.Adam(net.parameters(), lr=0.01), fnn.optim.Adam(twin.parameters(), lr=0.01)
    x = np.random.default_rng(6).standard_normal((16, 4)).astype(np.float32)
    for step in range(3):
        if step == 1:
            assert net.to("cuda") is net
            assert all(a is b for a, b in zip(net.parameters(), params))
            assert all(a is b for a, b in zip(net.buffers(), buffers))
            assert all(t.device == "cuda:0" for t in params + buffers)
        for model, o in ((net, opt), (twin, opt_twin)):
            o.zero_grad()
            device = next(model.parameters()).device
            (model(fnn.asarray(x, device=device)) ** 2).mean().backward()
            o.step()
    assert all(p.grad.device == "cuda:0" for p in params)
    for a, b in zip(list(net.parameters()) + list(net.buffers()), list(twin.parameters()) + list(twin.buffers())):
        np.testing.assert_allclose(np.asarray(a.cpu(), np.float64), np.asarray(b, np.float64), rtol=1e-4, atol=1e-5)
    assert net.cpu() is net and all(p.device == "cpu" for p in params)


def test_dense_lazy_build_and_keras_order():
    fnn.random.seed(6)
    d = nn.Dense(5, activation="relu")
    assert not d.built and list(d.parameters()) == []
    y = d(np.ones((3, 7), np.float32))
    assert d.built and y.shape == (3, 5) and d.weight.shape == (5, 7)
    assert np.all(np.asarray(d.bias) == 0)
    assert np.abs(np.asarray(d.weight)).max() <= math.sqrt(6 / 12)
    assert nn.Dense(2, input_shape=(9,)).weight.shape == (2, 9)
    assert nn.Dense(2).build((None, 4)).weight.shape == (2, 4)
    lazy = nn.Sequential([nn.Dense(2)])
    lazy.load_state_dict(nn.Sequential([nn.Dense(2, input_shape=(3,))]).state_dict())
    assert lazy[0].weight.shape == (2, 3)
    assert "unbuilt" in repr(nn.Dense(4))


@pytest.mark.parametrize("device", DEVICES)
def test_dense_builds_on_the_input_device_with_the_host_initial_values(device):
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    fnn.random.seed(8)
    ref = nn.Sequential(nn.Dense(5, activation="relu"), nn.Dense(2))
    want = ref(x)
    fnn.random.seed(8)
    model = nn.Sequential(nn.Dense(5, activation="relu"), nn.Dense(2))
    y = model(fnn.asarray(x, device=device))
    assert y.device == fnn.cuda._device_name(device)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert p.device == y.device and p.dtype == np.float32 and p.requires_grad
        np.testing.assert_array_equal(p.cpu(), q)  # drawn on the host, then moved
    np.testing.assert_allclose(y.cpu(), want, rtol=1e-5, atol=1e-6)
    d = nn.Dense(2, dtype=np.float64).build((None, 3), device)
    assert d.weight.device == d.bias.device == y.device and d.weight.dtype == np.float64


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential([a, b])
    s.append(c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    assert isinstance(s[1:], nn.Sequential) and len(s[1:]) == 2
    assert nn.Sequential(a, b)[1] is b
    with pytest.raises(TypeError, match="not a Module"):
        s.append(lambda x: x)


def test_repr_shows_structure_and_counts():
    net = nn.Sequential(nn.Linear(784, 512, activation="relu"), nn.Dropout(0.1), nn.Linear(512, 10))
    text = repr(net)
    assert "(0): Linear(in_features=784, out_features=512, bias=True, activation='relu')" in text
    assert "(1): Dropout(p=0.1)" in text
    assert "407,050 parameters" in text


def test_regularization_loss():
    net = nn.Sequential(nn.Linear(3, 2, kernel_regularizer=lambda w: (w * w).sum() * 0.1), nn.Linear(2, 1))
    assert nn.Sequential(nn.Linear(2, 2)).regularization_loss() == 0.0
    expected = 0.1 * (np.asarray(net[0].weight, np.float64) ** 2).sum()
    assert abs(float(net.regularization_loss()) - expected) < 1e-5


# ---- other layers ----

@pytest.mark.parametrize("module,fn", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(axis=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.Identity(), lambda x: x),
])
def test_activation_modules(module, fn):
    x = np.random.default_rng(7).standard_normal((4, 5))
    np.testing.assert_allclose(np.asarray(module(x)), fn(x), atol=1e-10)
    assert gradcheck(module, (x,))


def test_layer_modules_gradcheck():
    rng = np.random.default_rng(8)
    ln = nn.LayerNorm((2, 3)).to(np.float64)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, ln.normalized_shape, w, b), (rng.standard_normal((4, 2, 3)),
                                                                                np.asarray(ln.weight), rng.random((2, 3))))
    bn = nn.BatchNorm1d(3).to(np.float64)
    assert gradcheck(bn, (rng.standard_normal((5, 3, 2)),))
    emb = nn.Embedding(6, 4)
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    assert emb(idx).shape == (2, 3, 4)
    assert gradcheck(lambda w: F.embedding(idx, w), (np.asarray(emb.weight),))
    emb.weight.grad = None
    emb(idx).sum().backward()
    np.testing.assert_array_equal(np.asarray(emb.weight.grad)[:, 0], [1, 1, 3, 0, 0, 1])
    with pytest.raises(IndexError):
        emb(np.array([6]))


def test_batchnorm_module_running_stats_and_eval():
    bn = nn.BatchNorm1d(2, momentum=None)
    rng = np.random.default_rng(9)
    batches = [rng.standard_normal((10, 2)).astype(np.float32) * 3 + 1 for _ in range(3)]
    for b in batches:
        bn(b)
    assert int(bn.num_batches_tracked) == 3
    # momentum=None: cumulative average of the batch statistics
    np.testing.assert_allclose(np.asarray(bn.running_mean), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(bn.running_var), np.mean([b.var(0, ddof=1) for b in batches], axis=0),
                               rtol=1e-5)
    bn.eval()
    x = batches[0]
    expected = (x - np.asarray(bn.running_mean)) / np.sqrt(np.asarray(bn.running_var) + 1e-5)
    np.testing.assert_allclose(np.asarray(bn(x)), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(4, 3\)"):
        bn(np.ones((4, 3), np.float32))


def test_dropout_module_reproducible():
    d = nn.Dropout(0.5)
    x = np.ones((64, 64), np.float32)
    fnn.random.seed(1)
    a = np.asarray(d(x))
    fnn.random.seed(1)
    np.testing.assert_array_equal(np.asarray(d(x)), a)
    assert set(np.unique(a)) == {0.0, 2.0}
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)


def test_flatten_and_one_hot():
    x = fnn.asarray(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    np.testing.assert_array_equal(np.asarray(F.one_hot(np.array([2, 0]), 3)), [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(np.array([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        F.one_hot(np.array([3]), 3)


# ---- init ----

def test_init_statistics_and_seeding():
    t = fnn.empty((200, 300))
    fnn.random.seed(0)
    nn.init.xavier_uniform_(t)
    a = np.asarray(t).copy()
    bound = math.sqrt(6 / 500)
    assert np.abs(a).max() <= bound and abs(a.std() - bound / math.sqrt(3)) < 0.02 * bound
    fnn.random.seed(0)
    nn.init.glorot_uniform_(t)
    np.testing.assert_array_equal(np.asarray(t), a)
    nn.init.xavier_normal_(t, gain=2.0)
    assert abs(np.asarray(t).std() - 2 * math.sqrt(2 / 500)) < 0.03 * 2 * math.sqrt(2 / 500)
    nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(np.asarray(t).std() - math.sqrt(2 / 200)) < 0.03 * math.sqrt(2 / 200)
    nn.init.he_uniform_(t)
    assert np.abs(np.asarray(t)).max() <= math.sqrt(6 / 300)
    nn.init.normal_(t, 3.0, 0.5)
    assert abs(np.asarray(t).mean() - 3) < 0.01 and abs(np.asarray(t).std() - 0.5) < 0.01
    nn.init.uniform_(t, -2, -1)
    assert np.asarray(t).min() >= -2 and np.asarray(t).max() < -1
    nn.init.constant_(t, 0.25)
    assert np.all(np.asarray(t) == 0.25)
    assert np.all(np.asarray(nn.init.ones_(t)) == 1) and np.all(np.asarray(nn.init.zeros_(t)) == 0)


def test_calculate_gain_and_errors():
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swoosh")
    with pytest.raises(ValueError, match="at least 2 dims"):
        nn.init.xavier_uniform_(fnn.empty((5,)))
    with pytest.raises(ValueError, match="fan_in"):
        nn.init.kaiming_uniform_(fnn.empty((5, 5)), mode="fan")
