"""5-fold cross-validation of a Keras-style model with fusednn.data.cross_validate (stratified folds).

    pip install ".[examples]" && python examples/06_cross_validation.py
"""
import fusednn as fnn
from fusednn import nn


def main(small=False, verbose=1):
    fnn.random.seed(0)
    x, y = fnn.data.load_iris()
    x = fnn.data.StandardScaler().fit_transform(x)

    def build_model():
        model = nn.Sequential(nn.Dense(16, activation="relu", input_shape=(4,)), nn.Dense(3))
        model.compile("adam", "sparse_categorical_crossentropy", from_logits=True, metrics=["accuracy"], lr=1e-2)
        return model

    result = fnn.data.cross_validate(build_model, x, y, k=5, stratified=True, random_state=0,
                                     epochs=15 if small else 60, batch_size=16)
    for i, fold in enumerate(result["folds"]):
        print(f"fold {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in fold.items()))
    print(f"mean accuracy {result['mean']['accuracy']:.3f} +- {result['std']['accuracy']:.3f}")
    return result


if __name__ == "__main__":
    main()
