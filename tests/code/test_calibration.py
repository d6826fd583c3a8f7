"""Review numbers at a stored threshold, and the reliability table behind the reliability diagram."""

import math

import numpy as np
import pytest

from pipelines.metrics import expected_calibration_error, reliability_table, review_at


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
