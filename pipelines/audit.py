"""Label audit: the labeled cases whose label the model doubts, for a person to review.

Analysts' labels are noisy, and a wrong label in a few hundred costs more than any hyperparameter. Each
case is predicted by a model that never saw it (out-of-fold), so a disagreement is evidence against the
label rather than memory of it; the most confident disagreements come first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.config import ZH_NAMES
from pipelines.export import atomic_table
from pipelines.realdata import Unlabeled
from pipelines.text import clean_texts
from pipelines.train import fit_model, out_of_fold

AUDIT_COLUMNS = (
    "case_id",
    "label",
    "label_zh",
    "suggested",
    "suggested_zh",
    "suggested_proba",
    "label_proba",
    "doubt",
    "secondary",
    "text",
)


def doubted_labels(
    cases: pd.DataFrame,
    params: dict[str, Any],
    data: Path,
    unlabeled: Unlabeled | None = None,
) -> pd.DataFrame:
    """Cases whose out-of-fold prediction differs from their label, most confident disagreement first.

    Each case is predicted by the model ``train`` would register from ``data`` and ``unlabeled`` (few-label
    with the demo corpus when there are unlabeled exports, plain otherwise), fit on the other folds (those of ``train --refit``, so its out-of-fold
    predictions are the ones the audit reads). ``doubt`` is the predicted class's probability minus the given label's: near 1 the model is sure the
    label is wrong, near 0 it hesitates. Texts are masked, so the file may be shared.
    """
    labels = cases["label"].to_numpy(dtype=object)
    counts = pd.Series(labels).value_counts()
    folds = round(1 / params["split"]["test_size"])  # the folds and seed of `train --refit`
    n_folds = int(min(folds, counts.min())) if counts.min() >= 2 else 2
    classes = sorted(counts.index)
    proba = out_of_fold(
        cases, classes, n_folds, params["split"]["seed"], lambda part: fit_model(part, unlabeled, params, data)[1]
    )
    suggested = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    suggested_p, label_p = proba.max(axis=1), proba[np.arange(len(cases)), [classes.index(y) for y in labels]]
    audit = pd.DataFrame(
        {
            "case_id": cases["case_id"].to_numpy(),
            "label": labels,
            "label_zh": [ZH_NAMES.get(y, y) for y in labels],
            "suggested": suggested,
            "suggested_zh": [ZH_NAMES.get(y, y) for y in suggested],
            "suggested_proba": suggested_p.round(3),
            "label_proba": label_p.round(3),
            "doubt": (suggested_p - label_p).round(3),
            "secondary": cases["secondary"].to_numpy() if "secondary" in cases else "",
            "text": clean_texts(cases["text"].tolist()),
        }
    )
    doubted = audit[audit["suggested"] != audit["label"]]
    return doubted.sort_values("doubt", ascending=False, kind="stable").reset_index(drop=True)


def write_audit(doubted: pd.DataFrame, out: Path) -> Path:
    """Write the audit table in the format ``out`` names, as scoring writes its results (CSV with a BOM, so
    that spreadsheet tools show the Chinese text; XLSX; …); check ``out`` first with :func:`check_output`."""
    with atomic_table(out) as writer:
        writer.write(doubted[list(AUDIT_COLUMNS)])
    return out
