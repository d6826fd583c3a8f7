"""The MLflow side of a scoring job, run in a helper process beside the model load.

Opening MLflow's SQL store imports SQLAlchemy's table models (about half a second) and loading the model
imports skops (about as long): both are import time, bound to one core each. A forked helper opens the
store, finds the model (resolving a registry alias, downloading) and at the end records the job, while
the scorer imports the model loader, so on two cores a job starts about 0.4 s sooner. Where processes
cannot be forked, the same calls run in this process.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from mlflow.tracking.context.default_context import DefaultRunContext
from mlflow.utils.time import get_current_time_millis

from pipelines.config import SCORING_EXPERIMENT
from pipelines.forks import can_fork, finished, process_pool
from pipelines.registry import download_model, read_mlmodel
from pipelines.scoring_model import ModelIdentity, identify
from pipelines.tables import InputError
from pipelines.tracking import experiment_id, use_store

if TYPE_CHECKING:
    from collections.abc import Callable

    from pipelines.score import ScoreSummary

T = TypeVar("T")

#: The store client of the process that talks to MLflow, opened on a job's first call and dropped after the
#: job, so that the next job opens the store ``MLFLOW_TRACKING_URI`` names then.
_CLIENT: MlflowClient | None = None


def _client() -> MlflowClient:
    global _CLIENT
    if _CLIENT is None:
        _CLIENT = use_store()
    return _CLIENT


def _forget_client() -> None:
    global _CLIENT
    _CLIENT = None


@dataclass(frozen=True)
class FoundModel:
    """A model ready to load: its local folder, its MLmodel file, and the name and version it goes by."""

    local_dir: Path
    mlmodel: dict[str, Any]
    identity: ModelIdentity


def find_model(model_uri: str, dst: Path) -> FoundModel:
    """Open the store (an unreachable one fails here, before any slow work) and find the model in it."""
    client = _client()
    local_dir = download_model(model_uri, dst)
    mlmodel = read_mlmodel(local_dir)
    return FoundModel(local_dir, mlmodel, identify(model_uri, mlmodel, client))


def find_folder(model_uri: str) -> FoundModel | None:
    """A model given as a folder, found without the store (its identity is its path); None for a URI."""
    local_dir = Path(model_uri)
    if local_dir.is_file():
        raise InputError(local_dir, "a model is a folder MLflow saved (or models:/NAME@ALIAS), not a file")
    if not local_dir.is_dir():
        return None
    if not (local_dir / "MLmodel").is_file():
        raise InputError(
            local_dir, "not a model folder (no MLmodel file); give a folder MLflow saved or models:/NAME@ALIAS"
        )
    mlmodel = read_mlmodel(local_dir)
    return FoundModel(local_dir, mlmodel, identify(model_uri, mlmodel))


def record_job(summary: ScoreSummary, source: Path) -> str:
    """Record a finished job as a run in the scoring experiment, through this process's store client."""
    return log_job(_client(), summary, source)


def log_job(client: MlflowClient, summary: ScoreSummary, source: Path) -> str:
    """Record the job as a run in ``liability-scoring``: names, counts and shares, never texts.

    The client's calls with the default tags (user, source), not ``mlflow.start_run``: the fluent API
    probes for Databricks and notebook contexts, importing pyspark and IPython when they are installed,
    which cost half a second of every job.
    """
    run = client.create_run(
        experiment_id(client, SCORING_EXPERIMENT), run_name=f"score-{source.name}", tags=DefaultRunContext().tags()
    )
    run_id = run.info.run_id
    try:
        params = {
            "input": source.name,
            "input_files": len(summary.outputs),
            "rows": summary.rows_read,
            "model_name": summary.model.name,
            "model_version": summary.model.version,
            "model_run_id": summary.model.run_id,
            "model_uri": summary.model.uri,
        }
        now = get_current_time_millis()
        client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in summary.metrics().items()],
            params=[Param(k, str(v)) for k, v in params.items()],
        )
        client.log_dict(run_id, summary.to_dict() | {"run_id": run_id}, "summary.json")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id)
    return run_id


class JobStore:
    """The job's link to MLflow, as a context manager: calls run in one forked helper, or here."""

    def __init__(self) -> None:
        self._helper: ProcessPoolExecutor | None = None

    def __enter__(self) -> JobStore:
        # A forked helper inherits this process's client, if an earlier job here left one: it starts afresh.
        self._helper = process_pool(1, _forget_client) if can_fork() else None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._helper is not None:
            self._helper.shutdown(cancel_futures=True)
        else:
            _forget_client()

    def _call(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        if self._helper is not None:
            return self._helper.submit(fn, *args)
        return finished(fn(*args))

    def find_model(self, model_uri: str, dst: Path) -> Future[FoundModel]:
        """Started now, done in the helper: the caller imports the model loader meanwhile."""
        return self._call(find_model, model_uri, dst)

    def record(self, summary: ScoreSummary, source: Path) -> str:
        """Log the job (:func:`log_job`) and return its run id."""
        return self._call(record_job, summary, source).result()
