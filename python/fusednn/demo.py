"""python -m fusednn.demo: a short tour of fusednn's tensor core (checked against NumPy on the spot), then
an MLP trained on scikit-learn's bundled digits with a progress bar: test accuracy, confusion matrix and
throughput, in a few seconds.
"""
import time

import numpy as np

import fusednn as fnn


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


def train(epochs=20, verbose=1):
    print("4. Training an MLP on scikit-learn's bundled 8x8 digits (Keras-style compile/fit)")
    try:
        x, y = fnn.data.load_digits()
    except ImportError:
        print('   scikit-learn is not installed; for the training demo run: pip install ".[examples]"')
        return
    fnn.random.seed(0)
    x_train, x_test, y_train, y_test = fnn.data.train_test_split(x / 16.0, y, test_size=0.2, stratify=y,
                                                                  random_state=0)
    model = fnn.nn.Sequential(fnn.nn.Dense(128, activation="relu", input_shape=(64,)),
                              fnn.nn.Dense(64, activation="relu"), fnn.nn.Dense(10))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", from_logits=True,
                  metrics=["accuracy"], lr=3e-3)
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    elapsed = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = model.predict(x_test).argmax(axis=1)
    print(f"   test accuracy {accuracy:.2%} (loss {loss:.4f}) on {x_test.shape[0]} held-out digits")
    print("   confusion matrix (rows: true digit, columns: predicted):")
    print("   " + str(fnn.metrics.confusion_matrix(y_test, predicted, num_classes=10)).replace("\n", "\n   "))
    print(f"   throughput: {epochs * x_train.shape[0] / elapsed:,.0f} samples/s in fit "
          f"({epochs} epochs in {elapsed:.2f} s, {fnn.get_num_threads()} threads)")


def main(epochs=20, verbose=1):
    fnn.show_config()
    print()
    tour()
    train(epochs, verbose)


if __name__ == "__main__":
    main()
