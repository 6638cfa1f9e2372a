"""Linear regression with SGD: fit y = 2x + 1 + noise with one Linear(1, 1) and recover w ~ 2, b ~ 1.

    python examples/01_linear_regression.py
"""
import numpy as np

import fusednn as fnn
from fusednn import nn


def main(small=False, verbose=1):
    fnn.random.seed(0)
    rng = np.random.default_rng(0)
    n = 256 if small else 2000
    x = rng.uniform(-3, 3, size=(n, 1)).astype(np.float32)
    y = (2 * x + 1 + rng.normal(0, 0.1, size=(n, 1))).astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 1))
    model.compile(optimizer="sgd", loss="mse", lr=0.05)
    history = model.fit(x, y, epochs=20 if small else 30, batch_size=32, verbose=verbose and 2)
    w, b = float(model[0].weight[0, 0]), float(model[0].bias[0])
    print(f"fitted y = {w:.3f} x + {b:.3f}   (true: y = 2 x + 1), final loss {history.history['loss'][-1]:.4f}")
    return {"w": w, "b": b}


if __name__ == "__main__":
    main()
