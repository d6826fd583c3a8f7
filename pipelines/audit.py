"""Label audit: the labeled cases whose label the model doubts, for a person to review.

Analysts' labels are noisy, and a wrong label in a few hundred costs more than any hyperparameter. Each
case is predicted by a model that never saw it (out-of-fold), so a disagreement is evidence against the
label rather than memory of it; the most confident disagreements come first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from pipelines.export import write_csv
from pipelines.fewlabel import fit_few_label
from pipelines.text import clean_texts
from pipelines.train import out_of_fold

AUDIT_COLUMNS = ("case_id", "label", "suggested", "suggested_proba", "label_proba", "doubt", "text")


def doubted_labels(
    cases: pd.DataFrame, params: dict[str, Any], unlabeled: Sequence[str] = (), folds: int = 5, seed: int = 0
) -> pd.DataFrame:
    """Cases whose out-of-fold prediction differs from their label, most confident disagreement first.

    ``doubt`` is the predicted class's probability minus the given label's: near 1 the model is sure the
    label is wrong, near 0 it hesitates. Texts are masked, so the file may be shared.
    """
    texts, labels = cases["text"].to_numpy(dtype=object), cases["label"].to_numpy(dtype=object)
    counts = pd.Series(labels).value_counts()
    n_folds = int(min(folds, counts.min())) if counts.min() >= 2 else 2
    classes = sorted(counts.index)

    def fit(part: pd.DataFrame) -> Pipeline:
        second = part["secondary"].tolist() if "secondary" in part else None
        return fit_few_label(part["text"].tolist(), part["label"].tolist(), unlabeled, params, secondary=second).model

    proba = out_of_fold(cases, classes, n_folds, seed, fit)
    suggested_p, label_p = proba.max(axis=1), proba[np.arange(len(cases)), [classes.index(y) for y in labels]]
    audit = pd.DataFrame(
        {
            "case_id": cases["case_id"].to_numpy(),
            "label": labels,
            "suggested": np.asarray(classes, dtype=object)[proba.argmax(axis=1)],
            "suggested_proba": suggested_p.round(3),
            "label_proba": label_p.round(3),
            "doubt": (suggested_p - label_p).round(3),
            "text": clean_texts(texts),
        }
    )
    doubted = audit[audit["suggested"] != audit["label"]]
    return doubted.sort_values("doubt", ascending=False, kind="stable").reset_index(drop=True)


def write_audit(doubted: pd.DataFrame, out: Path) -> Path:
    """Write the audit table as UTF-8 CSV with BOM, so spreadsheet tools show the Chinese text correctly."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_csv(doubted[list(AUDIT_COLUMNS)], out)
