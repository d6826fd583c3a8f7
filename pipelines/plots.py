"""Figures a reviewer reads in the MLflow UI.

Chinese party names are drawn only when a CJK font is installed; otherwise the axes use the English
codes, because matplotlib would render missing glyphs as empty boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix

from pipelines.config import ZH_NAMES
from pipelines.metrics import expected_calibration_error, reliability_table

_CJK_FONT_HINTS = ("CJK", "WenQuanYi", "Noto Sans SC", "Source Han", "SimHei", "Microsoft YaHei", "PingFang")


@cache
def cjk_font() -> str | None:
    """The name of an installed font that has Chinese glyphs, if any."""
    for font in font_manager.fontManager.ttflist:
        if any(hint in font.name for hint in _CJK_FONT_HINTS):
            return font.name
    return None


def class_label(code: str) -> str:
    """``merchant 商家`` when Chinese can be drawn, else ``merchant``."""
    return f"{code} {ZH_NAMES[code]}" if cjk_font() and code in ZH_NAMES else code


def _use_cjk_font() -> None:
    """Put the CJK font (when there is one) first, so Chinese labels draw as glyphs."""
    font = cjk_font()
    if font and plt.rcParams["font.sans-serif"][0] != font:
        plt.rcParams["font.sans-serif"] = [font, *plt.rcParams["font.sans-serif"]]


def confusion_figure(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str], title: str) -> Figure:
    """Counts with row-normalised shading, so both the volume and the recall of each class are visible."""
    counts = confusion_matrix(y_true, y_pred, labels=list(classes))
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    _use_cjk_font()
    fig, ax = plt.subplots(figsize=(1.4 * len(classes) + 2.5, 1.2 * len(classes) + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [class_label(c) for c in classes]
    ax.set_xticks(range(len(classes)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), names)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                f"{counts[i, j]}\n{share[i, j]:.0%}",
                ha="center",
                va="center",
                color="white" if share[i, j] > 0.5 else "black",
                fontsize=9,
            )
    ax.set_xlabel("predicted party")
    ax.set_ylabel("true party")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def reliability_figure(confidence: np.ndarray, correct: np.ndarray, threshold: float, title: str) -> Figure:
    """Accuracy against the top-class confidence, with the review threshold marked.

    The review threshold is only as good as the model's confidence; bars below the diagonal are
    over-confident bins, and the ones right of the dashed line are the predictions nobody reviews.
    """
    table = reliability_table(confidence, correct)
    ece = expected_calibration_error(table)
    fig, (ax, counts) = plt.subplots(2, 1, figsize=(6, 6.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    width = table["bin_high"] - table["bin_low"]
    ax.bar(
        table["bin_low"],
        table["accuracy"],
        width=width,
        align="edge",
        color="#4c72b0",
        alpha=0.8,
        edgecolor="white",
        label="accuracy in bin",
    )
    ax.plot(
        table["mean_confidence"], table["accuracy"], "o", color="#1b2a49", label="accuracy at the bin's mean confidence"
    )
    ax.plot([0, 1], [0, 1], ":", color="black", label="perfect calibration")
    for a in (ax, counts):
        a.axvline(threshold, color="#c44e52", linestyle="--")
    ax.text(
        threshold,
        0.03,
        f" review threshold {threshold:.2f}",
        color="#c44e52",
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}\nexpected calibration error {ece:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    counts.bar(table["bin_low"], table["cases"], width=width, align="edge", color="#8c8c8c", edgecolor="white")
    counts.set_ylabel("cases")
    counts.set_xlabel("confidence of the predicted party (top-class probability)")
    fig.tight_layout()
    return fig


def calibration_figure(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], title: str) -> Figure:
    """One-vs-rest calibration curve per class: predicted probability (x) against observed frequency (y).

    Replaces MLflow 3.17's multiclass calibration plot, which compares string labels with class indices
    and swaps the axes, so for this model it draws every curve at x = 0.
    """
    _use_cjk_font()
    truth = np.asarray(y_true)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.plot([0, 1], [0, 1], ":", color="black", label="perfect calibration")
    for i, cls in enumerate(classes):
        hits = truth == cls
        if hits.all() or not hits.any():
            continue
        observed, predicted = calibration_curve(hits, proba[:, i], n_bins=8, strategy="quantile")
        ax.plot(predicted, observed, marker="o", markersize=4, label=class_label(cls))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability of the class")
    ax.set_ylabel("share of cases that are the class")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def learning_curve_figure(curve: pd.DataFrame, title: str) -> Figure:
    """Macro-F1 against the number of labeled cases, few-label model beside the labeled-only TF-IDF baseline:
    the gap is what the unlabeled pool is worth at each size, the slope what more labels would buy. Shaded, when
    the curve has them: each point's case-bootstrap interval, how far it could move on other cases. Whether a
    step is more than noise is a paired question, answered by the run's ``model_minus_model_labeled<share>``."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for method, label in (("model", "few-label model"), ("tfidf", "TF-IDF, labeled only")):
        line = ax.plot(curve["labeled_cases"], curve[method], marker="o", label=label)[0]
        if f"{method}_ci_low" in curve:
            band = (curve[f"{method}_ci_low"], curve[f"{method}_ci_high"])
            ax.fill_between(curve["labeled_cases"], *band, color=line.get_color(), alpha=0.15, linewidth=0)
        for x, y in zip(curve["labeled_cases"], curve[method], strict=True):
            ax.annotate(f"{y:.3f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_xlabel("labeled cases per training fold")
    ax.set_ylabel("macro-F1 (four parties, none counted)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
