"""Which MLflow store every entry point uses, so ``make``, notebooks and tests see the same runs.

Without ``MLFLOW_TRACKING_URI`` MLflow would create ``mlflow.db`` in whatever directory a command runs
from; here the default is one absolute store in the project root, with artifacts beside it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow.tracking import MlflowClient

from pipelines.config import PROJECT_ROOT

DEFAULT_DB = PROJECT_ROOT / "mlflow.db"
#: How long to wait for a tracking server's health check before giving up.
HEALTH_TIMEOUT_S = 5.0


class StoreUnavailableError(RuntimeError):
    """The tracking store cannot be reached; raised before any slow work starts."""


def tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` when set, else the project's own sqlite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{DEFAULT_DB}"


def artifact_root(uri: str) -> Path | None:
    """Where a local sqlite store keeps artifacts (``mlartifacts`` beside the database); a server decides its own."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    return Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts"


def check_reachable(uri: str) -> None:
    """Fail in seconds when a tracking server is down, instead of after MLflow's minutes of retries."""
    if urlparse(uri).scheme not in ("http", "https"):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_S) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise StoreUnavailableError(
            f"MLflow tracking server {uri} is not reachable ({exc}). Start it (make ui), or unset "
            "MLFLOW_TRACKING_URI to use the project's local store."
        ) from exc


def quiet_libraries() -> None:
    """Leave the console to the command's own output: jieba, alembic and MLflow log warnings only, and MLflow
    draws no download bars (it does whenever tqdm is importable, and the `vectors` extra brings it; a bar
    landed in front of a command's output in logs and captured output)."""
    for noisy in ("jieba", "alembic", "mlflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def use_store() -> MlflowClient:
    """Point MLflow's tracking and registry at the store and return a client for it."""
    uri = tracking_uri()
    check_reachable(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with store_lock(uri):  # a new sqlite store is created and migrated on first touch: one process at a time
        client = MlflowClient(uri, uri)
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
    return client


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created on first use with its artifacts under the store's root."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = artifact_root(client.tracking_uri)
    location = (root / name).as_uri() if root is not None else None
    return client.create_experiment(name, artifact_location=location)


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Serialize writers of one local sqlite store across processes; a server handles its own concurrency.

    Two trainings at once would otherwise race on sqlite's single writer (``database is locked``) and on
    which of them becomes the first ``champion``; with the lock the second simply waits its turn.
    """
    root = artifact_root(uri)
    if root is None:
        yield
        return
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / ".mlflow.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def server_command(uri: str, port: int) -> list[str]:
    """The ``mlflow server`` command that serves the store at ``uri`` (UI and REST API) on this machine only.

    One worker, because it starts in seconds and one reviewer needs no more. For a local store, new
    experiments get their artifacts under the same ``mlartifacts`` the pipelines write to, so the server
    and the pipelines never disagree on where a run's files are.
    """
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    root = artifact_root(uri)
    if root is not None:
        command += ["--default-artifact-root", root.as_uri()]
    return command
