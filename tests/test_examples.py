"""Each examples/*.py runs end to end, scaled down (main(small=True)), and reaches its stated result; the
demo runs too. scikit-learn's bundled data sets are needed (the examples extra)."""
import importlib.util
import pathlib

import pytest

pytest.importorskip("sklearn")

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(small=True, verbose=0)


def test_linear_regression_recovers_w_and_b():
    r = run("01_linear_regression")
    assert abs(r["w"] - 2) < 0.1 and abs(r["b"] - 1) < 0.1


def test_keras_mlp_on_digits_reaches_96_percent():
    assert run("02_mlp_digits_keras")["accuracy"] >= 0.96


def test_pytorch_style_loop_on_digits():
    assert run("03_pytorch_style_loop")["accuracy"] >= 0.94


def test_breast_cancer_reports_precision_recall_f1():
    r = run("04_breast_cancer_binary")
    assert set(r) == {"loss", "accuracy", "precision", "recall", "f1"}
    assert r["f1"] > 0.9 and r["precision"] > 0.85 and r["recall"] > 0.85


def test_transfer_learning_fine_tunes():
    r = run("05_transfer_learning")
    assert r["fine_tuned"] > 0.6 and r["head_only"] > 0.4


def test_cross_validation_five_folds():
    r = run("06_cross_validation")
    assert len(r["folds"]) == 5 and r["mean"]["accuracy"] > 0.8


def test_demo_runs(capsys):
    from fusednn import demo
    demo.main(epochs=2, verbose=0)
    out = capsys.readouterr().out
    assert "test accuracy" in out and "samples/s" in out and "confusion matrix" in out
