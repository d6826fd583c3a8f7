"""Shared fixtures: a private MLflow store per test session, and the optional real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import real_data_dir


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
