"""python -m fusednn.demo: a short tour of fusednn's tensor core, with a live speed check against NumPy.

Every number printed is computed by fusednn's kernels and checked against NumPy on the spot.
"""
import time

import numpy as np

import fusednn as fnn


def median_ms(fn, repeats=15):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def tour():
    print("1. Zero-copy exchange with NumPy")
    data = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    x = fnn.asarray(data)
    print(f"   fnn.asarray(ndarray) shares memory: {np.shares_memory(np.asarray(x), data)}")

    print("2. NumPy names and semantics, computed by our kernels")
    h = fnn.exp(x).sum(axis=1, keepdims=True)
    expected = np.exp(data.astype(np.float64)).sum(axis=1, keepdims=True)
    print(f"   exp(x).sum(axis=1, keepdims=True): shape {h.shape}, dtype {h.dtype}, "
          f"max rel. error vs float64 {np.max(np.abs(np.asarray(h) - expected) / expected):.1e}")
    mean = np.mean(x, axis=0)
    print(f"   np.mean(x, axis=0) returns a {type(mean).__module__}.{type(mean).__name__} of shape {mean.shape}")
    view = x[:4, ::2].T
    print(f"   x[:4, ::2].T is a view: shape {view.shape}, strides {view.strides}")

    print("3. Random numbers and matmul")
    w = fnn.random.default_rng(1).normal(0.0, 0.05, size=(784, 10))
    logits = x @ w
    error = np.max(np.abs(np.asarray(logits) - data.astype(np.float64) @ np.asarray(w, np.float64)))
    print(f"   (64x784) @ (784x10) -> {logits.shape}, max abs error vs float64 {error:.1e}")
    print(f"   argmax of the first rows: {logits.argmax(axis=1)[:8].tolist()}")


def speed():
    n = 1 << 22
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    fa, fb = fnn.asarray(a), fnn.asarray(b)
    print(f"4. Speed on {n:,} float32 elements ({fnn.get_num_threads()} threads, {fnn.config.isa()} kernels)")
    for name, ours, theirs in [("a + b", lambda: fa + fb, lambda: a + b),
                               ("exp(a)", lambda: fnn.exp(fa), lambda: np.exp(a)),
                               ("a.sum()", lambda: fa.sum(), lambda: a.sum())]:
        t_ours, t_np = median_ms(ours), median_ms(theirs)
        print(f"   {name:<8} fusednn {t_ours:6.2f} ms   numpy {t_np:6.2f} ms   {t_np / t_ours:4.1f}x")


def main():
    fnn.show_config()
    print()
    tour()
    speed()


if __name__ == "__main__":
    main()
