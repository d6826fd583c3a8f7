"""Held-out metrics and the review threshold, computed the same way by training and evaluation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, log_loss, precision_recall_fscore_support

from pipelines.config import PARTY_CODES


def scored_parties(classes: Sequence[str]) -> list[str]:
    """The parties macro-F1 averages over: the four parties the model knows. ``none`` is not averaged,
    but its rows still count: predicting a party for them is a false positive of that party."""
    return [p for p in PARTY_CODES if p in classes]


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], proba: np.ndarray | None, classes: Sequence[str]
) -> dict[str, float]:
    """Macro-F1 over the parties, accuracy, log-loss, and precision/recall/F1 for every class."""
    classes = list(classes)
    prec, rec, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    metrics: dict[str, float] = {
        "macro_f1": float(np.mean([f for c, f in zip(classes, f1, strict=True) if c in scored_parties(classes)])),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    if proba is not None:
        metrics["log_loss"] = float(log_loss(y_true, proba, labels=classes))
    for cls, p, r, f, n in zip(classes, prec, rec, f1, support, strict=True):
        metrics |= {
            f"precision_{cls}": float(p),
            f"recall_{cls}": float(r),
            f"f1_{cls}": float(f),
            f"support_{cls}": float(n),
        }
    return metrics


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
    k = int(reached[-1])
    threshold = float(conf[k])
    kept = confidence >= threshold
    return {
        "review_threshold": threshold,
        "review_precision": float(correct[kept].mean()),
        "review_coverage": float(kept.mean()),
    }
