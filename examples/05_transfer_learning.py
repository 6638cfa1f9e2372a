"""Transfer learning: pretrain an MLP on digits 0-4, save its weights, load them into a new model, freeze
the feature layers, replace the head for digits 5-9, fine-tune the head, then unfreeze everything and
fine-tune with a lower learning rate (re-compiling so the optimizer covers the unfrozen weights).

    pip install ".[examples]" && python examples/05_transfer_learning.py
"""
import os
import tempfile

import numpy as np

import fusednn as fnn
from fusednn import nn


def features():
    return [nn.Linear(64, 128, activation="relu"), nn.Linear(128, 64, activation="relu")]


def main(small=False, verbose=1):
    fnn.random.seed(0)
    x, y = fnn.data.load_digits()
    x = x / 16.0
    low = np.asarray(y) < 5
    xa, ya = x[fnn.asarray(np.flatnonzero(low))], y[fnn.asarray(np.flatnonzero(low))]
    xb, yb = x[fnn.asarray(np.flatnonzero(~low))], y[fnn.asarray(np.flatnonzero(~low))] - 5
    epochs = 5 if small else 15
    quiet = verbose and 2

    pretrained = nn.Sequential(*features(), nn.Linear(64, 5))
    pretrained.compile("adam", "sparse_categorical_crossentropy", from_logits=True, metrics=["accuracy"], lr=3e-3)
    pretrained.fit(xa, ya, epochs=epochs, verbose=quiet)
    path = os.path.join(tempfile.mkdtemp(), "pretrained.safetensors")
    pretrained.save_weights(path)

    xb_train, xb_test, yb_train, yb_test = fnn.data.train_test_split(xb, yb, train_size=0.5, stratify=yb,
                                                                      random_state=0)
    model = nn.Sequential(*features(), nn.Linear(64, 5))
    model.load_weights(path)
    model[0].trainable = False
    model[1].trainable = False
    model._modules["2"] = None
    model.add_module("2", nn.Linear(64, 5))  # a fresh head for the new classes
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, metrics=["accuracy"], lr=1e-2)
    model.fit(xb_train, yb_train, epochs=epochs, verbose=quiet)
    head_only = model.evaluate(xb_test, yb_test, verbose=0)[1]

    model.trainable = True
    model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, metrics=["accuracy"], lr=3e-4)
    model.fit(xb_train, yb_train, epochs=epochs, verbose=quiet)
    fine_tuned = model.evaluate(xb_test, yb_test, verbose=0)[1]
    print(f"new task accuracy: frozen features + new head {head_only:.2%}, after unfreezing {fine_tuned:.2%}")
    return {"head_only": head_only, "fine_tuned": fine_tuned}


if __name__ == "__main__":
    main()
