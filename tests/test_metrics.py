"""fnn.metrics: hand-computed values, scikit-learn as the oracle where installed, streaming metrics equal
to the whole-set functions, metrics.get."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fusednn as fnn
from fusednn import metrics as M


# ---------------------------------------------------------------- accuracy

def test_accuracy_kinds_by_hand():
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]], np.float32)
    labels = np.array([1, 0, 1, 1])
    assert M.accuracy(labels, probs) == 0.75                              # auto: sparse
    assert M.accuracy(np.eye(3)[labels], probs) == 0.75                   # auto: categorical
    assert M.accuracy(labels[:, None], probs, kind="sparse") == 0.75
    binary_true, binary_pred = np.array([1, 0, 1, 0]), np.array([[0.9], [0.6], [0.4], [0.1]])
    assert M.accuracy(binary_true, binary_pred) == 0.5                    # auto: binary, threshold 0.5
    assert M.accuracy(binary_true, binary_pred, threshold=0.3) == 0.75
    assert M.accuracy(binary_true, binary_pred, threshold=0.7) == 0.75
    assert M.accuracy([3, 1, 2], [3, 1, 1]) == pytest.approx(2 / 3)       # auto: exact labels
    assert M.accuracy(fnn.asarray(np.array([1.0, 0.0])), np.array([1.0, 1.0]), kind="labels") == 0.5
    assert M.accuracy(np.zeros(0), np.zeros(0)) == 0.0


def test_accuracy_errors():
    with pytest.raises(ValueError, match=r"incompatible shapes \(3,\) and \(4,\)"):
        M.accuracy(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="kind must be one of"):
        M.accuracy([1], [1], kind="top5")
    with pytest.raises(ValueError, match="one-hot y_true"):
        M.accuracy(np.zeros((2, 3)), np.zeros((2, 4)), kind="categorical")
    with pytest.raises(ValueError, match="one integer label per row"):
        M.accuracy(np.zeros(3), np.zeros((2, 4)), kind="sparse")


# ---------------------------------------------------------------- confusion matrix, precision, recall, f1

def test_confusion_and_scores_by_hand():
    t = [0, 0, 1, 1, 1, 2]
    p = [0, 1, 1, 1, 2, 2]
    cm = M.confusion_matrix(t, p)
    assert cm.dtype == np.int64 and np.asarray(cm).tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert M.confusion_matrix(t, p, num_classes=4).shape == (4, 4)
    # per class: P = (1, 2/3, 1/2), R = (1/2, 2/3, 1), F1 = (2/3, 2/3, 2/3)
    assert M.precision(t, p, average="macro") == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    assert M.recall(t, p, average="macro") == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert M.f1(t, p, average="macro") == pytest.approx(2 / 3)
    assert M.precision(t, p, average="weighted") == pytest.approx((2 * 1 + 3 * 2 / 3 + 1 * 1 / 2) / 6)
    assert M.f1(t, p, average="micro") == pytest.approx(4 / 6)
    np.testing.assert_allclose(np.asarray(M.recall(t, p, average=None)), [1 / 2, 2 / 3, 1])
    # binary: tp = 2, fp = 1, fn = 1 from probabilities thresholded at 0.5
    bt, bp = [1, 1, 1, 0, 0], [0.9, 0.8, 0.2, 0.7, 0.1]
    assert M.precision(bt, bp) == pytest.approx(2 / 3) and M.recall(bt, bp) == pytest.approx(2 / 3)
    assert M.precision(bt, bp, pos_label=0) == pytest.approx(1 / 2)
    assert M.precision([0, 0], [0, 0]) == 0.0 and M.f1([0, 0], [0, 0]) == 0.0     # zero division gives 0
    np.testing.assert_array_equal(np.asarray(M.confusion_matrix(np.eye(3)[t], np.eye(3)[p] * 0.9)), np.asarray(cm))


def test_classification_errors():
    with pytest.raises(ValueError, match="average='binary'"):
        M.precision([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="average must be one of"):
        M.recall([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="class label 3 is out of range for num_classes=3"):
        M.confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="class label -1 is out of range"):
        M.confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="different numbers of samples"):
        M.confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=2"):
        M.precision([0, 1], [0, 1], pos_label=2)
    assert M.confusion_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64), num_classes=2).tolist() == [[0, 0], [0, 0]]


labels = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60)


@given(labels, st.sampled_from(["micro", "macro", "weighted"]))
def test_scores_match_sklearn(pairs, average):
    skm = pytest.importorskip("sklearn.metrics")
    t, p = (np.array(v) for v in zip(*pairs))
    for ours, theirs in ((M.precision, skm.precision_score), (M.recall, skm.recall_score), (M.f1, skm.f1_score)):
        assert ours(t, p, average=average) == pytest.approx(theirs(t, p, average=average, zero_division=0),
                                                            abs=1e-12)
    per_class = skm.f1_score(t, p, average=None, labels=list(range(5)), zero_division=0)
    np.testing.assert_allclose(np.asarray(M.f1(t, p, average=None, num_classes=5)), per_class, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(M.confusion_matrix(t, p, num_classes=5)),
                                  skm.confusion_matrix(t, p, labels=list(range(5))))
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))


@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=60))
def test_binary_scores_match_sklearn(pairs):
    skm = pytest.importorskip("sklearn.metrics")
    t, prob = (np.array(v) for v in zip(*pairs))
    p = (prob > 0.5).astype(np.int64)
    assert M.precision(t, prob) == pytest.approx(skm.precision_score(t, p, zero_division=0))
    assert M.recall(t, prob) == pytest.approx(skm.recall_score(t, p, zero_division=0))
    assert M.f1(t, prob) == pytest.approx(skm.f1_score(t, p, zero_division=0))
    assert M.accuracy(t, prob.astype(np.float32)) == pytest.approx(skm.accuracy_score(t, p))


def test_confusion_matrix_large_counts_exact():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 3, 300_000), rng.integers(0, 3, 300_000)
    expected = np.zeros((3, 3), np.int64)
    np.add.at(expected, (t, p), 1)
    np.testing.assert_array_equal(np.asarray(M.confusion_matrix(t, p)), expected)


# ---------------------------------------------------------------- regression

def test_regression_by_hand():
    t, p = [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]
    assert M.mean_squared_error(t, p) == pytest.approx(0.375)
    assert M.mean_absolute_error(t, p) == pytest.approx(0.5)
    assert M.r2_score(t, p) == pytest.approx(1 - 1.5 / 29.1875)
    assert M.mean_squared_error(np.array(t)[:, None], p) == pytest.approx(0.375)
    assert M.r2_score([1.0, 1.0], [1.0, 1.0]) == 1.0 and M.r2_score([1.0, 1.0], [1.0, 2.0]) == 0.0
    assert np.isnan(M.r2_score([1.0], [2.0]))
    with pytest.raises(ValueError, match="incompatible shapes"):
        M.mean_squared_error([1.0, 2.0], [1.0])


@given(st.integers(2, 40), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_regression_matches_sklearn(n, outputs, seed):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, outputs)).astype(np.float32)
    p = (t + rng.normal(size=t.shape)).astype(np.float32)
    t64, p64 = t.astype(np.float64), p.astype(np.float64)   # the oracle in float64: ours accumulates in float64
    assert M.mean_squared_error(t, p) == pytest.approx(skm.mean_squared_error(t64, p64), rel=1e-12)
    assert M.mean_absolute_error(t, p) == pytest.approx(skm.mean_absolute_error(t64, p64), rel=1e-12)
    assert M.r2_score(t, p) == pytest.approx(skm.r2_score(t64, p64), rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------- streaming metrics

def batches(n, cuts):
    bounds = sorted({0, n, *[c % (n + 1) for c in cuts]})
    return list(zip(bounds[:-1], bounds[1:]))


@given(st.integers(1, 50), st.lists(st.integers(0, 100), max_size=4), st.integers(0, 2**32 - 1))
def test_streaming_equals_whole_set(n, cuts, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    probs = rng.random((n, 4)).astype(np.float32)
    binary, binary_probs = rng.integers(0, 2, n), rng.random((n, 1)).astype(np.float32)
    target, estimate = rng.normal(size=n), rng.normal(size=n)
    cases = [(M.Accuracy(), labels, probs, M.accuracy(labels, probs)),
             (M.SparseCategoricalAccuracy(), labels, probs, M.accuracy(labels, probs, kind="sparse")),
             (M.CategoricalAccuracy(), np.eye(4)[labels], probs, M.accuracy(labels, probs)),
             (M.BinaryAccuracy(threshold=0.3), binary, binary_probs, M.accuracy(binary, binary_probs, threshold=0.3)),
             (M.Precision(), binary, binary_probs, M.precision(binary, binary_probs)),
             (M.Recall(average="macro"), labels, probs, M.recall(labels, probs, average="macro")),
             (M.F1Score(average="weighted"), labels, probs, M.f1(labels, probs, average="weighted")),
             (M.MeanSquaredError(), target, estimate, M.mean_squared_error(target, estimate)),
             (M.MeanAbsoluteError(), target, estimate, M.mean_absolute_error(target, estimate)),
             (M.R2Score(), target, estimate, M.r2_score(target, estimate))]
    for metric, y_true, y_pred, expected in cases:
        for start, stop in batches(n, cuts):
            metric.update_state(y_true[start:stop], y_pred[start:stop])
        assert metric.result() == pytest.approx(expected, rel=1e-9, abs=1e-12, nan_ok=True), type(metric).__name__
        metric.reset_state()
        assert metric.result() == 0.0


def test_streaming_confusion_grows_with_new_labels():
    m = M.F1Score(average="macro")
    m.update_state([0, 1], [0, 1])
    m.update_state([3], [2])
    assert m.matrix.shape == (4, 4)
    assert m.result() == pytest.approx(M.f1([0, 1, 3], [0, 1, 2], average="macro"))
    fixed = M.Precision(average="micro", num_classes=2)
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        fixed.update_state([0, 2], [0, 1])


def test_mean_and_wrapper():
    m = M.Mean(name="loss")
    m.update_state(2.0)
    m.update_state([4.0, 6.0])
    assert m.result() == pytest.approx(4.0) and m.name == "loss"
    m.reset_state()
    m.update_state([1.0, 3.0], sample_weight=[3.0, 1.0])
    assert m.result() == pytest.approx(1.5)
    assert m(5.0) == pytest.approx((1.5 * 4 + 5) / 5)
    w = M.get(lambda t, p: M.mean_absolute_error(t, p))   # a scalar per batch, weighted by batch size
    w.update_state(np.zeros(3), np.ones(3))
    w.update_state(np.zeros(1), np.full(1, 5.0))
    assert w.result() == pytest.approx((3 * 1 + 5) / 4)
    per_sample = M.MeanMetricWrapper(lambda t, p: np.abs(np.asarray(t) - np.asarray(p)), name="ae")
    per_sample.update_state(np.zeros(2), np.array([1.0, 3.0]))
    assert per_sample.result() == 2.0 and per_sample.name == "ae"


def test_get():
    for name, cls in [("accuracy", M.Accuracy), ("acc", M.Accuracy), ("mse", M.MeanSquaredError),
                      ("MAE", M.MeanAbsoluteError), ("precision", M.Precision), ("recall", M.Recall),
                      ("f1", M.F1Score), ("binary_accuracy", M.BinaryAccuracy), ("r2", M.R2Score),
                      ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy)]:
        metric = M.get(name)
        assert type(metric) is cls and metric.name == name
    assert M.get("acc") is not M.get("acc")
    instance = M.Recall()
    assert M.get(instance) is instance and type(M.get(M.R2Score)) is M.R2Score
    with pytest.raises(ValueError, match="unknown metric 'top_k'.*accuracy.*mse"):
        M.get("top_k")
    with pytest.raises(TypeError, match="a metric must be"):
        M.get(3)
    with pytest.raises(ValueError, match="average must be one of"):
        M.Precision(average=None)
    assert "result=" in repr(M.Accuracy())
