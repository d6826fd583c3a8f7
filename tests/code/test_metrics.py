"""Metrics as training and evaluation compute them: macro-F1, the review threshold, calibration."""

import math
import warnings

import numpy as np
import pytest

from pipelines.metrics import (
    classification_metrics,
    expected_calibration_error,
    reliability_table,
    review_at,
    review_threshold,
)


def test_macro_f1_counts_none_rows_as_false_positives():
    classes = ["consumer", "logistics", "merchant", "none", "platform"]
    y_true = ["merchant", "none", "logistics", "consumer", "platform"]
    perfect = classification_metrics(y_true, y_true, None, classes)
    assert perfect["macro_f1"] == 1.0
    blamed = classification_metrics(
        y_true, ["merchant", "merchant", "logistics", "consumer", "platform"], None, classes
    )
    assert blamed["precision_merchant"] == 0.5
    assert blamed["macro_f1"] < 1.0


def test_review_threshold_reaches_target_with_widest_coverage():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    result = review_threshold(confidence, correct, target_precision=0.75)
    assert result["review_threshold"] == 0.7
    assert result["review_precision"] == pytest.approx(0.8)
    assert result["review_coverage"] == pytest.approx(5 / 6)


def test_review_threshold_unreachable_sends_everything_to_review():
    result = review_threshold(np.array([0.9, 0.8]), np.array([False, False]), target_precision=0.9)
    assert result["review_threshold"] == 1.0
    assert result["review_coverage"] == 0.0


def test_log_loss_takes_float32_probabilities_without_warning():
    # A model's float32 rows sum to 1 only within about 1e-7; gathered into a float64 array (out-of-fold
    # predictions), scikit-learn's log_loss holds them to float64 precision and warns.
    classes = ["consumer", "logistics", "merchant", "none", "platform"]
    rows = [[0.1, 0.2, 0.3000001, 0.2, 0.2], [0.6, 0.1, 0.1, 0.1, 0.1]]
    proba = np.array(rows, dtype=np.float32).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = classification_metrics(["merchant", "consumer"], ["merchant", "consumer"], proba, classes)
    assert result["log_loss"] == pytest.approx(-(np.log(0.3) + np.log(0.6)) / 2, rel=1e-5)


def test_review_at_a_stored_threshold():
    confidence = np.array([0.95, 0.9, 0.6, 0.3])
    correct = np.array([True, False, True, False])
    result = review_at(confidence, correct, 0.6)
    assert result == {"review_threshold": 0.6, "review_precision": pytest.approx(2 / 3), "review_coverage": 0.75}


def test_review_at_a_threshold_nothing_reaches():
    result = review_at(np.array([0.3, 0.4]), np.array([True, True]), 0.9)
    assert result["review_coverage"] == 0.0
    assert math.isnan(result["review_precision"])


def test_reliability_table_bins_and_calibration_error():
    confidence = np.array([0.05, 0.15, 0.95, 0.95, 1.0])
    correct = np.array([False, False, True, True, False])
    table = reliability_table(confidence, correct, n_bins=10)
    assert table["cases"].tolist() == [1, 1, 3]
    assert table["bin_low"].tolist() == pytest.approx([0.0, 0.1, 0.9])
    assert table["accuracy"].iloc[-1] == pytest.approx(2 / 3)
    gaps = [0.05, 0.15, abs((0.95 + 0.95 + 1.0) / 3 - 2 / 3) * 3]
    assert expected_calibration_error(table) == pytest.approx(sum(gaps) / 5)
    perfect = reliability_table(np.array([1.0, 1.0]), np.array([True, True]))
    assert expected_calibration_error(perfect) == 0.0
