"""Which MLflow store every entry point uses, so ``make``, notebooks and tests see the same runs.

Without ``MLFLOW_TRACKING_URI`` MLflow would create ``mlflow.db`` in whatever directory a command runs
from; here the default is one absolute store in the project root, with artifacts beside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow.tracking import MlflowClient

from pipelines.config import PROJECT_ROOT

DEFAULT_DB = PROJECT_ROOT / "mlflow.db"


def tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` when set, else the project's own sqlite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{DEFAULT_DB}"


def artifact_root(uri: str) -> Path | None:
    """Where a local sqlite store keeps artifacts (``mlartifacts`` beside the database); a server decides its own."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    return Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts"


def use_store() -> MlflowClient:
    """Point MLflow's tracking and registry at the store and return a client for it."""
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(uri, uri)


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created on first use with its artifacts under the store's root."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = artifact_root(client.tracking_uri)
    location = (root / name).as_uri() if root is not None else None
    return client.create_experiment(name, artifact_location=location)
