"""Shared fixtures: a private MLflow store per test session, and the optional real data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from pipelines.config import real_data_dir
from pipelines.train import train


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway sqlite store, so tests never touch the project's own mlflow.db."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """../shared/data (or $LIABILITY_REAL_DATA); tests that need it skip when it is absent."""
    path = real_data_dir()
    if not (path / "real").is_dir():
        pytest.skip(f"real data not found at {path} (set LIABILITY_REAL_DATA)")
    return path


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private store holding one small trained model, shared by a module's tests (``mlflow_store`` is per
    test); subprocesses inherit it through ``MLFLOW_TRACKING_URI``."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        train(sample=300)
        yield uri
    mlflow.set_tracking_uri(None)
