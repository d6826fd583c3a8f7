"""The held-out cases of a training run, kept with the run so later evaluations can use the very same split.

Comparing a candidate with the champion is only fair on identical cases; re-splitting later would depend
on the data file still being there, unchanged. So training logs its held-out cases (texts masked) as an
artifact, and evaluation reads them back from MLflow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from pipelines.text import clean_texts

#: Where training logs the held-out cases, relative to the run's artifact root.
HELDOUT_ARTIFACT = "evaluation/heldout.parquet"
#: Fingerprints of the labeled cases a training run fit on, so evaluation can leave them out of other data.
TRAINED_ARTIFACT = "evaluation/trained_cases.json"
#: Columns evaluation reports metrics per value of, when the data has them.
SLICE_COLUMNS: tuple[str, ...] = ("genre", "channel", "category")


def masked_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """Case id, cleaned (so personal data is masked) text, label and the slice columns present."""
    columns = ["case_id", "text", "label", *(c for c in SLICE_COLUMNS if c in cases.columns)]
    return cases[columns].assign(text=clean_texts(cases["text"])).reset_index(drop=True)


def fingerprints(masked_texts: Iterable[str]) -> list[str]:
    """Short digests of masked case texts: enough to recognise a case again in other data, nothing to read it
    from. A text is the case, whatever its id: a model that fit on a text has seen it under any id."""
    return [hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] for text in masked_texts]


def trained_fingerprints(run_id: str) -> set[str] | None:
    """The fingerprints of the cases a training run fit on; ``None`` for a run from before they were logged."""
    try:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=TRAINED_ARTIFACT)
    except MlflowException:
        return None
    return set(json.loads(Path(local).read_text(encoding="utf-8")))


def write_heldout(test_set: pd.DataFrame, out_dir: Path) -> Path:
    """Write the held-out cases as ``heldout.parquet`` in ``out_dir`` (logged under ``evaluation/``)."""
    path = out_dir / Path(HELDOUT_ARTIFACT).name
    masked_cases(test_set).to_parquet(path, index=False)
    return path


def load_heldout(run_id: str) -> pd.DataFrame:
    """The held-out cases a training run logged."""
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=HELDOUT_ARTIFACT)
    return pd.read_parquet(local)
