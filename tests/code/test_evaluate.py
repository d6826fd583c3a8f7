"""Metrics per slice: a slice's macro-F1 averages only the parties that occur in it."""

import math

import numpy as np
import pandas as pd

from pipelines.evaluate import slice_metrics


def test_slice_macro_f1_over_present_parties_and_nan_without_any():
    cases = pd.DataFrame(
        {
            "label": ["merchant", "merchant", "logistics", "none", "none"],
            "genre": ["chat", "chat", "complaint", "review", "review"],
        }
    )
    pred = np.array(["merchant", "logistics", "logistics", "none", "merchant"])
    confidence = np.array([0.9, 0.8, 0.95, 0.7, 0.3])
    table = slice_metrics(cases, pred, confidence, threshold=0.75).set_index("value")
    assert table.loc["chat", "macro_f1"] == 2 / 3  # merchant only: P=1, R=0.5; logistics is absent, not averaged
    assert table.loc["complaint", "macro_f1"] == 1.0
    assert math.isnan(table.loc["review", "macro_f1"]) and table.loc["review", "accuracy"] == 0.5
    assert table.loc["chat", "review_coverage"] == 1.0 and table.loc["review", "review_coverage"] == 0.0
    assert list(table["column"].unique()) == ["genre"]
