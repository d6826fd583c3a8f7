"""Faults around the store: an unreachable server fails fast (training and scoring), concurrent trainings both
land."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import pipelines.score
import pipelines.train
from pipelines.config import MODEL_NAME
from pipelines.tracking import StoreUnavailableError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_fails_before_fitting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")

    def must_not_fit(*args, **kwargs):
        raise AssertionError("fitting started although the store is down")

    monkeypatch.setattr(pipelines.train, "build_pipeline", must_not_fit)
    with pytest.raises(StoreUnavailableError, match="not reachable"):
        pipelines.train.train(sample=100)


def test_unreachable_server_fails_before_scoring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    source = tmp_path / "export.csv"
    source.write_text("case_id,text\n1,快递丢件了\n", encoding="utf-8")

    def must_not_score(*args, **kwargs):
        raise AssertionError("scoring started although the store is down")

    monkeypatch.setattr(pipelines.score, "scored_chunks", must_not_score)
    with pytest.raises(StoreUnavailableError, match="not reachable"):
        pipelines.score.score(source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.slow
def test_two_trainings_at_once_both_register(mlflow_store: str, tmp_path: Path):
    env = os.environ | {"MLFLOW_TRACKING_URI": mlflow_store}
    command = [sys.executable, "-m", "pipelines", "train", "--sample", "300"]
    runs = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err.decode()[-3000:]
    client = MlflowClient(mlflow_store, mlflow_store)
    versions = client.search_model_versions(f"name='{MODEL_NAME}'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    champions = [v for v in versions if "champion" in client.get_model_version(MODEL_NAME, v.version).aliases]
    assert len(champions) == 1
