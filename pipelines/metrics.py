"""Held-out metrics and the review threshold, computed the same way by training and evaluation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_recall_fscore_support

from pipelines.config import PARTY_CODES
from pipelines.intervals import macro_f1_interval


def scored_parties(classes: Sequence[str]) -> list[str]:
    """The parties macro-F1 averages over: the four parties the model knows. ``none`` is not averaged,
    but its rows still count: predicting a party for them is a false positive of that party."""
    return [p for p in PARTY_CODES if p in classes]


def party_macro_f1(y_true: Sequence[str], y_pred: Sequence[str], parties: Sequence[str] = PARTY_CODES) -> float:
    """Macro-F1 over ``parties`` (by default all four), ``none`` rows counted as false positives when blamed."""
    return float(f1_score(y_true, y_pred, labels=list(parties), average="macro", zero_division=0))


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], proba: np.ndarray | None, classes: Sequence[str]
) -> dict[str, float]:
    """Macro-F1 over the parties, accuracy, log-loss, and precision/recall/F1 for every class."""
    classes = list(classes)
    prec, rec, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    metrics: dict[str, float] = {
        "macro_f1": party_macro_f1(y_true, y_pred, scored_parties(classes)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    if proba is not None:
        # Models give float32 probabilities, whose rows sum to 1 within about 1e-7; gathered into a float64 array
        # (out-of-fold predictions) they make log_loss warn, as it then expects float64 precision.
        proba = np.asarray(proba, dtype=np.float64)
        metrics["log_loss"] = float(log_loss(y_true, proba / proba.sum(axis=1, keepdims=True), labels=classes))
    for cls, p, r, f, n in zip(classes, prec, rec, f1, support, strict=True):
        metrics |= {
            f"precision_{cls}": float(p),
            f"recall_{cls}": float(r),
            f"f1_{cls}": float(f),
            f"support_{cls}": float(n),
        }
    return metrics


def macro_f1_bounds(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """``macro_f1_ci_low``/``macro_f1_ci_high``: the case-bootstrap interval of the macro-F1 above
    (:mod:`pipelines.intervals`). On 141 real cases (a 20% split of ``gold/dev.csv``) it spans about ±0.09
    around the figure: a difference of 0.02 between two trainings measured there says little."""
    low, high = macro_f1_interval(
        np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)[None, :], parties=scored_parties(classes)
    )
    return {"macro_f1_ci_low": low, "macro_f1_ci_high": high}


def review_threshold(confidence: np.ndarray, correct: np.ndarray, target_precision: float) -> dict[str, float]:
    """The lowest confidence at which the predictions at or above it are right at least ``target_precision``
    of the time. Below it a prediction is flagged for a person; the wider the coverage above it, the better.

    Returns the threshold with the precision and coverage it gives on the data it was chosen on. When no
    threshold reaches the target, the threshold is 1.0 and every prediction goes to review.
    """
    order = np.argsort(-confidence, kind="stable")
    conf, hits = confidence[order], correct[order].astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    reached = np.flatnonzero(precision >= target_precision)
    if reached.size == 0:
        return {"review_threshold": 1.0, "review_precision": float("nan"), "review_coverage": 0.0}
    return review_at(confidence, correct, float(conf[int(reached[-1])]))


def review_at(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision and coverage of the predictions a threshold lets through without review.

    Evaluation applies a model's stored threshold to new data with this, so the numbers answer "what
    would this model have done here", not "what threshold would have suited this data".
    """
    kept = confidence >= threshold
    return {
        "review_threshold": float(threshold),
        "review_precision": float(correct[kept].mean()) if kept.any() else float("nan"),
        "review_coverage": float(kept.mean()),
    }


def reliability_table(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Accuracy against confidence in equal-width bins of the top-class probability.

    This is what the review threshold relies on: a well calibrated model is right 80% of the time when
    it says 0.8. Empty bins are left out.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    frame = pd.DataFrame({"bin": index, "confidence": confidence, "correct": correct.astype(float)})
    table = frame.groupby("bin").agg(
        cases=("correct", "size"), mean_confidence=("confidence", "mean"), accuracy=("correct", "mean")
    )
    table.insert(0, "bin_low", edges[table.index])
    table.insert(1, "bin_high", edges[table.index + 1])
    return table.reset_index(drop=True)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """The case-weighted mean gap between confidence and accuracy over a :func:`reliability_table`."""
    gap = (table["mean_confidence"] - table["accuracy"]).abs()
    return float((gap * table["cases"]).sum() / table["cases"].sum())
