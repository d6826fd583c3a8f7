"""Evaluation runs as evidence: the tags that tie a run to a model version and data, and finding them again.

Evaluation writes these tags, promotion and the model card read them; keeping the names in one place
keeps the three agreeing on what "the same data" means (the same data digest).
"""

from __future__ import annotations

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from pipelines.config import EVAL_EXPERIMENT, MODEL_NAME

TAG_MODEL = "model.name"
TAG_VERSION = "model.version"
TAG_ALIAS = "model.alias"
TAG_MODEL_DIGEST = "model.data_digest"
TAG_DATA = "eval.data"
TAG_KIND = "eval.data_kind"
TAG_DIGEST = "eval.data_digest"
TAG_CASES = "eval.cases"
#: Shared by the runs of one ``liability evaluate``, so promotion compares numbers measured together.
TAG_BATCH = "eval.batch"

HELDOUT = "heldout"
GOLD = "gold"

#: Metric of a candidate's evaluation run: its macro-F1 minus the champion's on the same cases; with
#: ``_ci_low``/``_ci_high``, the paired case-bootstrap interval of that difference.
VS_CHAMPION = "macro_f1_minus_champion"


def evaluation_runs(client: MlflowClient, version: str | None = None) -> list[Run]:
    """Finished evaluation runs of the registered model (of one version when given), newest first."""
    experiment = client.get_experiment_by_name(EVAL_EXPERIMENT)
    if experiment is None:
        return []
    query = f"tags.`{TAG_MODEL}` = '{MODEL_NAME}' and attributes.status = 'FINISHED'"
    if version is not None:
        query += f" and tags.`{TAG_VERSION}` = '{version}'"
    return list(
        client.search_runs([experiment.experiment_id], query, max_results=1000, order_by=["attributes.start_time DESC"])
    )


def latest_per_data(runs: list[Run]) -> list[Run]:
    """The newest run for each evaluated data digest (``runs`` newest first, as :func:`evaluation_runs` gives)."""
    seen: dict[str, Run] = {}
    for run in runs:
        seen.setdefault(run.data.tags[TAG_DIGEST], run)
    return list(seen.values())
