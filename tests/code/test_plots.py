"""Evaluation figures read at a glance: labelled in English codes unless a CJK font can draw Chinese."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipelines.plots import calibration_figure, cjk_font, learning_curve_figure, reliability_figure

CLASSES = ["consumer", "logistics", "merchant", "none", "platform"]


def _texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(match=lambda o: hasattr(o, "get_text")))


def test_reliability_figure_marks_threshold_and_error():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.2, 1.0, 400)
    fig = reliability_figure(confidence, rng.uniform(size=400) < confidence, 0.62, "Reliability on dev")
    text = _texts(fig)
    assert "review threshold 0.62" in text and "expected calibration error" in text
    plt.close(fig)


def test_calibration_figure_has_one_curve_per_class_without_tofu():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(5), 300)
    truth = np.asarray(CLASSES)[proba.argmax(axis=1)]
    fig = calibration_figure(truth, proba, CLASSES, "Calibration")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 6
    if cjk_font() is None:
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in _texts(fig))
    lines = [line for line in fig.axes[0].get_lines() if line.get_label() != "perfect calibration"]
    assert all(line.get_xdata().max() > 0.3 for line in lines), "curves must spread over predicted probability"
    plt.close(fig)


def test_learning_curve_shades_each_methods_interval_when_the_curve_has_one():
    curve = pd.DataFrame(
        {"labeled_cases": [140, 562], "model": [0.71, 0.75], "tfidf": [0.49, 0.61]}
        | {"model_ci_low": [0.67, 0.72], "model_ci_high": [0.75, 0.79], "tfidf_ci_low": [0.44, 0.56]}
        | {"tfidf_ci_high": [0.54, 0.65]}
    )
    shaded = learning_curve_figure(curve, "with intervals")
    assert len(shaded.axes[0].collections) == 2
    plain = learning_curve_figure(curve[["labeled_cases", "model", "tfidf"]], "from an older run")
    assert len(plain.axes[0].collections) == 0
    plt.close(shaded)
    plt.close(plain)
