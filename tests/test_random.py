"""fnn.random: Philox4x32-10 known answers, the documented counter layout (values rebuilt in NumPy from
an independent Philox), reproducibility, thread/ISA independence, distributions, permutations, errors, and
draws on CUDA devices against the CPU's (same seed and offset: same values, same offset afterwards)."""
import math

import numpy as np
import pytest

import fusednn as fnn
from conftest import DEVICES
from fusednn import random as fr

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK32, MASK64 = 0xFFFFFFFF, 2**64 - 1


def philox_blocks(key, first, count):
    """Words (count, 4) of blocks first .. first+count-1 under a 64-bit key, in NumPy uint64 arithmetic."""
    ctr = np.arange(count, dtype=np.uint64) + np.uint64(first)
    c = [ctr & np.uint64(MASK32), ctr >> np.uint64(32), np.zeros(count, np.uint64), np.zeros(count, np.uint64)]
    k0, k1 = key & MASK32, key >> 32
    for _ in range(10):
        p0, p1 = np.uint64(M0) * c[0], np.uint64(M1) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & np.uint64(MASK32),
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & np.uint64(MASK32)]
        k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
    return np.stack(c, axis=1)


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def words(seed, offset, n, per_block):
    """The words element i uses: block offset + i // per_block."""
    blocks = -(-n // per_block)
    return philox_blocks(splitmix64(seed), offset, blocks)


def unit53(hi, lo):
    return ((hi >> np.uint64(5)).astype(np.float64) * 67108864.0 + (lo >> np.uint64(6)).astype(np.float64)) / 2.0**53


@pytest.mark.parametrize("counter,key,expected", [
    ([0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
    ([MASK32] * 4, [MASK32] * 2, [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]),
    ([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0],
     [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]),
])
def test_philox_known_answers(counter, key, expected):
    # Random123's kat_vectors for Philox4x32-10.
    assert list(fnn._C._philox4x32(counter, key)) == expected


def test_reference_philox_matches_cpp():
    key = 0x0123456789ABCDEF
    w = philox_blocks(key, 2**32 - 2, 4)  # crosses into the counter's high word
    for i, c in enumerate(range(2**32 - 2, 2**32 + 2)):
        assert list(fnn._C._philox4x32([c & MASK32, c >> 32, 0, 0], [key & MASK32, key >> 32])) == list(w[i])


N_LAYOUT = 1000 + 37  # an odd size: the last chunk is partial


def test_uniform_layout(isa):
    g = fr.default_rng(11)
    g.random(5)  # advances the offset by 2 blocks (float32: 4 per block)
    assert g.get_state()["offset"] == 2
    got32 = np.asarray(g.random(N_LAYOUT))
    w = words(11, 2, N_LAYOUT, 4).reshape(-1)[:N_LAYOUT]
    np.testing.assert_array_equal(got32, ((w >> np.uint64(8)).astype(np.float64) / 2**24).astype(np.float32))
    offset = g.get_state()["offset"]
    got64 = np.asarray(g.uniform(-2.0, 3.0, N_LAYOUT, dtype=np.float64))
    w = words(11, offset, N_LAYOUT, 2).reshape(-1, 2)[:N_LAYOUT]
    np.testing.assert_allclose(got64, -2.0 + 5.0 * unit53(w[:, 0], w[:, 1]), rtol=0, atol=1e-15)


def test_normal_layout(isa):
    g = fr.default_rng(5)
    got64 = np.asarray(g.normal(size=N_LAYOUT, dtype=np.float64))
    w = words(5, 0, N_LAYOUT, 2)
    u1 = 1.0 - unit53(w[:, 0], w[:, 1])
    theta = 2 * np.pi * unit53(w[:, 2], w[:, 3])
    r = np.sqrt(-2 * np.log(u1))
    expected = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).reshape(-1)[:N_LAYOUT]
    np.testing.assert_allclose(got64, expected, rtol=1e-13, atol=1e-14)

    offset = g.get_state()["offset"]
    got32 = np.asarray(g.normal(1.5, 2.0, size=N_LAYOUT))
    w = words(5, offset, N_LAYOUT, 4)
    pairs = []
    for p in range(2):
        u1 = (w[:, 2 * p] >> np.uint64(1)).astype(np.float64) / 2**31 + 2.0**-32
        t = (w[:, 2 * p + 1] >> np.uint64(8)).astype(np.float64) / 2**24
        r = np.sqrt(-2 * np.log(u1))
        pairs += [r * np.cos(2 * np.pi * t), r * np.sin(2 * np.pi * t)]
    expected = 1.5 + 2.0 * np.stack(pairs, axis=1).reshape(-1)[:N_LAYOUT]
    np.testing.assert_allclose(got32, expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integers_layout(isa, dtype):
    low, high = -7, 1_000_003
    g = fr.default_rng(9)
    got = np.asarray(g.integers(low, high, size=N_LAYOUT, dtype=dtype))
    assert got.dtype == dtype
    w = words(9, 0, N_LAYOUT, 2).reshape(-1, 2)[:N_LAYOUT]
    x = [(int(a) << 32) | int(b) for a, b in w]
    expected = [low + ((v * (high - low)) >> 64) for v in x]
    assert got.tolist() == expected


def test_permutation_is_fisher_yates_over_the_stream():
    n = 50
    got = np.asarray(fr.default_rng(3).permutation(n))
    w = words(3, 0, n - 1, 2).reshape(-1, 2)[: n - 1]
    x = [(int(a) << 32) | int(b) for a, b in w]
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = (x[n - 1 - i] * (i + 1)) >> 64
        p[i], p[j] = p[j], p[i]
    assert got.tolist() == p


DRAWS = {
    "normal32": lambda g, n: g.normal(size=n),
    "normal64": lambda g, n: g.normal(size=n, dtype=np.float64),
    "uniform32": lambda g, n: g.uniform(-1, 2, size=n),
    "uniform64": lambda g, n: g.random(size=n, dtype=np.float64),
    "integers64": lambda g, n: g.integers(-5, 10**12, size=n),
    "integers32": lambda g, n: g.integers(0, 7, size=n, dtype=np.int32),
    "bool": lambda g, n: g.integers(0, 2, size=n, dtype=np.bool_),
}


@pytest.mark.parametrize("name", DRAWS)
def test_thread_count_does_not_change_values(threads, name):
    n = (1 << 18) + 5
    results = []
    for t in (1, 2):
        fnn.set_num_threads(t)
        results.append(np.asarray(DRAWS[name](fr.default_rng(1234), n)))
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("name", DRAWS)
def test_isas_agree_bitwise(name):
    from fusednn.config import supported_isas, use_isa
    results = []
    for isa in supported_isas():
        with use_isa(isa):
            results.append(np.asarray(DRAWS[name](fr.default_rng(77), 3001)))
    for r in results[1:]:
        np.testing.assert_array_equal(results[0], r)


@pytest.mark.parametrize("name", DRAWS)
def test_seed_reproducibility_and_state(name):
    draw = DRAWS[name]
    a = np.asarray(draw(fr.default_rng(42), 999))
    assert np.array_equal(a, np.asarray(draw(fr.default_rng(42), 999)))
    assert not np.array_equal(a, np.asarray(draw(fr.default_rng(43), 999)))
    g = fr.default_rng(42)
    first = np.asarray(draw(g, 100))
    state = g.get_state()
    second = np.asarray(draw(g, 899))
    np.testing.assert_array_equal(np.concatenate([first, second])[:100], a[:100])
    g.set_state(state)
    np.testing.assert_array_equal(np.asarray(draw(g, 899)), second)


def test_module_functions_use_the_global_generator():
    fr.seed(2024)
    a = np.asarray(fr.normal(size=10))
    b = np.asarray(fr.rand(3, 4))
    c = np.asarray(fr.randint(0, 5, size=6))
    g = fr.default_rng(2024)
    np.testing.assert_array_equal(a, np.asarray(g.normal(size=10)))
    np.testing.assert_array_equal(b, np.asarray(g.random((3, 4))))
    np.testing.assert_array_equal(c, np.asarray(g.integers(0, 5, size=6)))
    state = fr.get_state()
    d = np.asarray(fr.randn(5))
    fr.set_state(state)
    np.testing.assert_array_equal(np.asarray(fr.randn(5)), d)
    assert fr.rand(2).shape == (2,) and fr.randn(2, 3).dtype == np.float32


def test_scalars_and_shapes():
    g = fr.default_rng(0)
    assert isinstance(g.normal(), float) and isinstance(g.random(), float)
    assert isinstance(g.integers(5), int) and isinstance(fr.rand(), float)
    assert g.normal(size=(2, 0, 3)).shape == (2, 0, 3)
    assert g.uniform(size=()).shape == ()
    t = g.standard_normal((3, 4), dtype=np.float64)
    assert t.shape == (3, 4) and t.dtype == np.float64 and isinstance(t, fnn.Tensor)
    state = g.get_state()
    g.normal(size=0)
    assert g.get_state() == state  # an empty draw uses no blocks


def test_normal_moments_and_ks():
    n = 1_000_000
    z = np.asarray(fr.default_rng(100).normal(size=n), dtype=np.float64)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.std() - 1) < 5 * math.sqrt(0.5 / n)
    assert abs(np.mean(z**3)) < 5 * math.sqrt(15 / n)           # skewness
    assert abs(np.mean(z**4) - 3) < 5 * math.sqrt(96 / n)       # kurtosis
    # Kolmogorov-Smirnov against the normal CDF; P(sqrt(m) D > 2.7) ~ 2 exp(-2 * 2.7^2) < 1e-6.
    s = np.sort(z[:200_000])
    cdf = 0.5 * (1 + np.vectorize(math.erf)(s / math.sqrt(2)))
    m = s.size
    d = max(np.max(np.arange(1, m + 1) / m - cdf), np.max(cdf - np.arange(m) / m))
    assert d * math.sqrt(m) < 2.7
    x = np.asarray(fr.default_rng(101).normal(3.0, 0.5, size=n, dtype=np.float64))
    assert abs(x.mean() - 3) < 5 * 0.5 / math.sqrt(n) and abs(x.std() - 0.5) < 5 * 0.5 * math.sqrt(0.5 / n)


def chi_square(counts, expected):
    return float(np.sum((counts - expected) ** 2 / expected))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_range_moments_and_chi_square(dtype):
    n = 1_000_000
    u = np.asarray(fr.default_rng(200).uniform(2.0, 5.0, size=n, dtype=dtype))
    assert u.dtype == dtype and u.min() >= 2.0 and u.max() < 5.0
    v = (u.astype(np.float64) - 2.0) / 3.0
    assert abs(v.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    assert abs(v.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / n)
    counts = np.bincount(np.minimum((v * 100).astype(int), 99), minlength=100)
    assert chi_square(counts, n / 100) < 180  # df 99: P(chi2 > 180) < 1e-6


def test_uniform_never_reaches_high():
    # float32 rounding of low + (high - low) * u would reach high for u close to 1 without the clamp.
    u = np.asarray(fr.default_rng(3).uniform(1.0, 1.0 + 2**-20, size=200_000))
    assert u.max() < np.float32(1.0 + 2**-20) and u.min() >= 1.0
    assert np.array_equal(np.asarray(fr.default_rng(0).uniform(4.0, 4.0, size=3)), [4.0, 4.0, 4.0])


def test_integers_cover_range_and_chi_square():
    n = 500_000
    x = np.asarray(fr.default_rng(300).integers(-3, 7, size=n))
    assert x.min() == -3 and x.max() == 6
    assert chi_square(np.bincount(x + 3, minlength=10), n / 10) < 50  # df 9: P(chi2 > 50) < 1e-6
    y = np.asarray(fr.default_rng(301).integers(-3, 7, size=10_000, endpoint=True, dtype=np.int32))
    assert set(np.unique(y)) == set(range(-3, 8))
    b = np.asarray(fr.default_rng(302).integers(0, 2, size=10_000, dtype=np.bool_))
    assert b.dtype == np.bool_ and 4500 < b.sum() < 5500
    assert set(np.unique(np.asarray(fr.randint(5, size=1000)))) == set(range(5))


def test_integers_extreme_ranges():
    g = fr.default_rng(1)
    full = np.asarray(g.integers(-2**63, 2**63 - 1, size=1000, endpoint=True))
    assert full.min() < -2**61 and full.max() > 2**61  # spans the whole int64 range
    i32 = np.asarray(g.integers(-2**31, 2**31, size=1000, dtype=np.int32))
    assert i32.min() < -2**29 and i32.max() > 2**29
    assert np.all(np.asarray(g.integers(2**62, 2**62 + 1, size=10)) == 2**62)


@pytest.mark.parametrize("n", [0, 1, 2, 17, 1000])
def test_permutation_is_valid(n):
    p = np.asarray(fr.default_rng(n).permutation(n))
    assert p.dtype == np.int64 and np.array_equal(np.sort(p), np.arange(n))
    if n >= 17:
        assert not np.array_equal(p, np.arange(n))


def test_permutation_of_array_and_shuffle():
    a = np.arange(24).reshape(8, 3)
    p = np.asarray(fr.default_rng(8).permutation(a))
    order = np.asarray(fr.default_rng(8).permutation(8))
    np.testing.assert_array_equal(p, a[order])
    np.testing.assert_array_equal(a, np.arange(24).reshape(8, 3))  # the input is untouched

    t = fnn.tensor(np.arange(24.0).reshape(8, 3))
    fr.default_rng(8).shuffle(t)
    np.testing.assert_array_equal(np.asarray(t), np.arange(24.0).reshape(8, 3)[order])

    b = np.arange(24).reshape(3, 8).T  # non-contiguous rows, shuffled in place through NumPy's memory
    expected = b[order].copy()
    fr.default_rng(8).shuffle(b)
    np.testing.assert_array_equal(b, expected)


def test_draw_into_non_contiguous_output():
    out = np.zeros((6, 4), np.float32).T
    fr.default_rng(4)._g.normal_(fnn.asarray(out), 0.0, 1.0)
    np.testing.assert_array_equal(out, np.asarray(fr.default_rng(4).normal(size=(4, 6))))


def test_choice():
    g = fr.default_rng(6)
    c = np.asarray(g.choice(5, size=1000))
    assert set(np.unique(c)) == set(range(5))
    w = np.asarray(g.choice(10, size=10, replace=False))
    assert sorted(w.tolist()) == list(range(10))
    rows = np.asarray(g.choice(np.arange(12.0).reshape(6, 2), size=4))
    assert rows.shape == (4, 2) and np.all(rows[:, 1] == rows[:, 0] + 1)
    with pytest.raises(ValueError, match="larger sample"):
        g.choice(3, size=4, replace=False)


def test_array_parameters_broadcast():
    loc = np.array([0.0, 100.0, -100.0], np.float32)
    x = np.asarray(fr.default_rng(0).normal(loc, 1.0, size=(2000, 3)))
    np.testing.assert_allclose(x.mean(axis=0), loc, atol=0.2)
    y = np.asarray(fr.default_rng(0).uniform(0.0, np.array([1.0, 10.0], np.float32)))
    assert y.shape == (2,) and 0 <= y[0] < 1 and 0 <= y[1] < 10


def test_bad_input():
    g = fr.default_rng(0)
    with pytest.raises(ValueError, match="negative dimensions"):
        g.normal(size=-1)
    with pytest.raises(ValueError, match="low >= high"):
        g.integers(5, 5)
    with pytest.raises(ValueError, match="low >= high"):
        fr.randint(0)
    with pytest.raises(ValueError, match="scale < 0"):
        g.normal(0, -1, size=3)
    with pytest.raises(ValueError, match="high - low < 0"):
        g.uniform(1, 0, size=3)
    with pytest.raises(ValueError, match="exceeds valid bounds"):
        g.uniform(0, np.inf, size=3)
    with pytest.raises(TypeError, match="int64"):
        g.normal(size=3, dtype=np.int64)
    with pytest.raises(TypeError, match="float32"):
        g.integers(0, 3, size=3, dtype=np.float32)
    with pytest.raises(ValueError, match="out of range for int32"):
        g.integers(0, 2**31 + 1, size=3, dtype=np.int32)
    with pytest.raises(ValueError, match="out of range"):
        g.integers(0, 2**64, size=3)
    with pytest.raises(ValueError, match="seed"):
        fr.default_rng(-1)
    with pytest.raises(TypeError, match="seed"):
        fr.default_rng(1.5)
    with pytest.raises(ValueError, match="0-d"):
        g.shuffle(fnn.tensor(3.0))
    with pytest.raises(TypeError, match="list"):
        g.shuffle([1, 2, 3])
    with pytest.raises(ValueError, match="read-only"):
        ro = np.zeros(4)
        ro.flags.writeable = False
        g.shuffle(ro)
    with pytest.raises(ValueError, match="non-negative"):
        g.permutation(-1)
    with pytest.raises(MemoryError):
        g.normal(size=10**15)
    with pytest.raises(ValueError, match="set_state"):
        g.set_state({"seed": 1})
    state = g.get_state()
    with pytest.raises(MemoryError):
        g.random(size=(10**8, 10**8))
    assert g.get_state() == state  # a failed allocation draws nothing


# ---------------------------------------------------------------- devices

EXACT_DRAWS = {  # (generator, n, device) -> a draw whose device values equal the CPU's bit for bit
    "uniform32": lambda g, n, d: g.uniform(-1, 2, size=n, device=d),
    "uniform32_narrow": lambda g, n, d: g.uniform(1.0, 1.0 + 2**-20, size=n, device=d),  # the clamp below high
    "uniform64": lambda g, n, d: g.random(size=n, dtype=np.float64, device=d),
    "integers64": lambda g, n, d: g.integers(-5, 10**12, size=n, device=d),
    "integers64_full": lambda g, n, d: g.integers(-2**63, 2**63 - 1, size=n, endpoint=True, device=d),
    "integers32": lambda g, n, d: g.integers(0, 7, size=n, dtype=np.int32, device=d),
    "bool": lambda g, n, d: g.integers(0, 2, size=n, dtype=np.bool_, device=d),
}
NORMAL_DRAWS = {  # values equal to float rounding (the device's sqrt and division round as IEEE says)
    "normal32": (lambda g, n, d: g.normal(1.5, 2.0, size=n, device=d), 1e-6),
    "normal64": (lambda g, n, d: g.normal(size=n, dtype=np.float64, device=d), 1e-14),
}
DEVICE_SIZES = [0, 1, 5, 1037, (1 << 18) + 3]


def on_host(t):
    return np.asarray(t.cpu())


def twin_generators(device):
    """Two generators at the same non-zero offset, one advanced by a CPU draw and one by a device draw."""
    g_cpu, g_dev = fr.default_rng(77), fr.default_rng(77)
    g_cpu.random(3)
    g_dev.random(3, device=device)
    assert g_dev.get_state() == g_cpu.get_state()
    return g_cpu, g_dev


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", EXACT_DRAWS)
@pytest.mark.parametrize("n", DEVICE_SIZES)
def test_device_draws_equal_the_cpu_bitwise(device, name, n):
    g_cpu, g_dev = twin_generators(device)
    expected = np.asarray(EXACT_DRAWS[name](g_cpu, n, "cpu"))
    got = EXACT_DRAWS[name](g_dev, n, device)
    assert got.device.startswith(device) and got.dtype == expected.dtype and got.shape == (n,)
    np.testing.assert_array_equal(on_host(got), expected)
    assert g_dev.get_state() == g_cpu.get_state()  # the same blocks reserved


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NORMAL_DRAWS)
@pytest.mark.parametrize("n", DEVICE_SIZES)
def test_device_normal_matches_the_cpu(device, name, n):
    draw, tol = NORMAL_DRAWS[name]
    g_cpu, g_dev = twin_generators(device)
    expected = np.asarray(draw(g_cpu, n, "cpu"))
    got = draw(g_dev, n, device)
    assert got.device.startswith(device) and got.dtype == expected.dtype
    np.testing.assert_allclose(on_host(got), expected, rtol=tol, atol=tol)
    assert g_dev.get_state() == g_cpu.get_state()


@pytest.mark.parametrize("device", DEVICES)
def test_device_draws_interleave_with_cpu_draws(device):
    # One stream, draws alternating between the host and the device, equals the all-CPU stream.
    g, ref = fr.default_rng(5), fr.default_rng(5)
    parts = [g.normal(size=(3, 7), device=device), g.integers(0, 9, size=11), g.random(6, device=device),
             g.uniform(-2, 2, size=4, dtype=np.float64)]
    expected = [ref.normal(size=(3, 7)), ref.integers(0, 9, size=11), ref.random(6),
                ref.uniform(-2, 2, size=4, dtype=np.float64)]
    for got, want in zip(parts, expected):
        np.testing.assert_allclose(on_host(got), np.asarray(want), rtol=1e-6, atol=1e-6)
    assert g.get_state() == ref.get_state()


@pytest.mark.parametrize("device", DEVICES)
def test_device_module_functions_and_scalars(device):
    fr.seed(2024)
    a = fr.normal(size=10, device=device)
    b = fr.rand(3, 4, device=device)
    c = fr.randint(0, 5, size=6, device=device)
    d = fr.integers(3, size=(2, 2), device=device)
    g = fr.default_rng(2024)
    np.testing.assert_allclose(on_host(a), np.asarray(g.normal(size=10)), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(on_host(b), np.asarray(g.random((3, 4))))
    np.testing.assert_array_equal(on_host(c), np.asarray(g.integers(0, 5, size=6)))
    np.testing.assert_array_equal(on_host(d), np.asarray(g.integers(3, size=(2, 2))))
    assert fr.get_state() == g.get_state()
    v = fr.default_rng(1).random(device=device)  # no size: a Python float on the CPU, a 0-d tensor on a device
    w = fr.default_rng(1).random()
    assert (v == w) if device == "cpu" else (v.shape == () and on_host(v) == w)


@pytest.mark.parametrize("device", DEVICES)
def test_device_array_parameters_broadcast(device):
    loc = np.array([0.0, 100.0, -100.0], np.float32)
    got = fr.default_rng(0).normal(loc, 1.0, size=(50, 3), device=device)
    assert got.device.startswith(device)
    np.testing.assert_allclose(on_host(got), np.asarray(fr.default_rng(0).normal(loc, 1.0, size=(50, 3))),
                               rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_device_draw_in_place_into_a_non_contiguous_tensor(device):
    out = fnn.zeros((6, 4), device=device).T
    fr.default_rng(4)._g.normal_(out, 0.0, 1.0)
    np.testing.assert_allclose(on_host(out), np.asarray(fr.default_rng(4).normal(size=(4, 6))), rtol=1e-6, atol=1e-6)
    t = fnn.zeros(1001, dtype=np.float64, device=device)
    fnn.random.seed(3)
    fnn.nn.init.uniform_(t, -0.5, 0.5)
    fnn.random.seed(3)
    np.testing.assert_array_equal(on_host(t), np.asarray(fr.uniform(-0.5, 0.5, size=1001, dtype=np.float64)))


@pytest.mark.parametrize("device", DEVICES)
def test_device_shuffle_and_permutation_run_through_the_host(device):
    order = np.asarray(fr.default_rng(8).permutation(8))
    t = fnn.tensor(np.arange(24.0).reshape(8, 3), device=device)
    fr.default_rng(8).shuffle(t)
    assert t.device.startswith(device)
    np.testing.assert_array_equal(on_host(t), np.arange(24.0).reshape(8, 3)[order])
    src = fnn.tensor(np.arange(16).reshape(8, 2), device=device)
    p = fr.default_rng(8).permutation(src)
    assert p.device.startswith(device)
    np.testing.assert_array_equal(on_host(p), np.arange(16).reshape(8, 2)[order])
    np.testing.assert_array_equal(on_host(src), np.arange(16).reshape(8, 2))  # the input is untouched


@pytest.mark.skipif(fnn.cuda.is_available(), reason="a CUDA device is present")
def test_device_draw_without_a_device_raises_and_keeps_the_state():
    g = fr.default_rng(0)
    state = g.get_state()
    with pytest.raises(RuntimeError, match="without CUDA|no CUDA device"):
        g.normal(size=3, device="cuda")
    with pytest.raises(RuntimeError, match="without CUDA|no CUDA device"):
        fr.integers(0, 3, size=3, device="cuda:0")
    assert g.get_state() == state
    with pytest.raises(ValueError, match="unknown device"):
        g.random(3, device="tpu")
