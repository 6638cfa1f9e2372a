"""Binary classification on scikit-learn's bundled breast-cancer data: standardised features, a sigmoid
output with binary cross-entropy, and precision / recall / F1 as streaming metrics and on the test set.

    pip install ".[examples]" && python examples/04_breast_cancer_binary.py
"""
import fusednn as fnn
from fusednn import nn


def main(small=False, verbose=1):
    fnn.random.seed(0)
    x, y = fnn.data.load_breast_cancer()
    x_train, x_test, y_train, y_test = fnn.data.train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
    scaler = fnn.data.StandardScaler().fit(x_train)
    model = nn.Sequential(nn.Dense(32, activation="relu", input_shape=(30,)), nn.Dense(1, activation="sigmoid"))
    model.scaler = scaler  # saved with the model
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "precision", "recall", "f1"],
                  lr=1e-2)
    model.fit(scaler.transform(x_train), y_train.astype("float32"), epochs=10 if small else 30, batch_size=32,
              verbose=verbose and 2)
    scores = model.evaluate(scaler.transform(x_test), y_test.astype("float32"), verbose=0, return_dict=True)
    probabilities = model.predict(scaler.transform(x_test))[:, 0]
    cm = fnn.metrics.confusion_matrix(y_test, probabilities)
    print("test: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    print(f"confusion matrix (rows: true class, columns: predicted):\n{cm}")
    return scores


if __name__ == "__main__":
    main()
