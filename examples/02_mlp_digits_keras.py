"""A Keras-style MLP classifier on scikit-learn's bundled 8x8 digits: Sequential + compile + fit with a
validation split, EarlyStopping, then evaluate on a held-out test set (>= 96% accuracy).

    pip install ".[examples]" && python examples/02_mlp_digits_keras.py
"""
import fusednn as fnn
from fusednn import callbacks, nn


def load(seed=0):
    x, y = fnn.data.load_digits()
    x = x / 16.0
    return fnn.data.train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)


def build():
    return nn.Sequential(nn.Dense(128, activation="relu", input_shape=(64,)), nn.Dropout(0.1),
                         nn.Dense(64, activation="relu"), nn.Dense(10))


def main(small=False, verbose=1):
    fnn.random.seed(0)
    x_train, x_test, y_train, y_test = load()
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", from_logits=True,
                  metrics=["accuracy"], lr=3e-3)
    if verbose:
        model.summary()
    model.fit(x_train, y_train, epochs=15 if small else 40, batch_size=32, validation_split=0.1, verbose=verbose,
              callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=8, restore_best_weights=True)])
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.2%}")
    return {"accuracy": accuracy}


if __name__ == "__main__":
    main()
