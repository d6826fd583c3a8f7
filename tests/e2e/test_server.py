"""The whole review loop against a real ``mlflow server``: what the commands report is what the server holds.

Starts ``mlflow server`` on 127.0.0.1 with a temporary store (the same command ``make ui`` runs), points the
pipeline at it through ``MLFLOW_TRACKING_URI``, trains a model and a worse one, evaluates, refuses and then
forces the worse one, and reads everything back through the REST API. The server is stopped by its pid.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import mlflow
import pytest

from pipelines.config import CHAMPION_ALIAS, EVAL_EXPERIMENT, EXPERIMENT, MODEL_NAME
from pipelines.evaluate import evaluate
from pipelines.promote import FORCED, REFUSED, promote
from pipelines.tracking import server_command
from pipelines.train import train
from tests.e2e.helpers import weak_params

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"mlflow server exited:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"mlflow server not healthy after {timeout}s:\n{log.read_text()[-3000:]}")


def _get(base: str, endpoint: str, **query: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}", timeout=30) as r:
        return json.load(r)


def _post(base: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base}/api/2.0/mlflow/{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def _runs(base: str, experiment: str) -> dict[str, dict]:
    experiment_id = _get(base, "experiments/get-by-name", experiment_name=experiment)["experiment"]["experiment_id"]
    runs = _post(base, "runs/search", {"experiment_ids": [experiment_id], "max_results": 100})["runs"]
    return {run["info"]["run_id"]: run for run in runs}


def _metric(run: dict, key: str) -> float:
    return next(m["value"] for m in run["data"]["metrics"] if m["key"] == key)


def _version_tags(base: str, version: str) -> dict[str, str]:
    got = _get(base, "model-versions/get", name=MODEL_NAME, version=version)["model_version"]
    return {t["key"]: t["value"] for t in got.get("tags", [])}


def test_train_evaluate_promote_through_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            server_command(f"sqlite:///{tmp_path / 'mlflow.db'}", port),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},  # GenAI job runner: 12 s to stop
        )
    try:
        _wait_healthy(base, server, log)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", base)
        good = train(sample=600, run_name="good")
        weak = train(sample=600, params_file=weak_params(tmp_path), run_name="weak")
        evaluations = evaluate()
        refused = promote()
        forced = promote(force=True)

        training = _runs(base, EXPERIMENT)
        assert set(training) == {good.run_id, weak.run_id}
        assert _metric(training[weak.run_id], "macro_f1") == pytest.approx(weak.metrics["macro_f1"])
        listed = _get(base, "artifacts/list", run_id=good.run_id)["files"]
        assert {"model_card.md", "evaluation", "label_distribution.json"} <= {f["path"] for f in listed}
        heldout = _get(base, "artifacts/list", run_id=good.run_id, path="evaluation")["files"]
        assert "evaluation/heldout.parquet" in {f["path"] for f in heldout}

        evaluated = _runs(base, EVAL_EXPERIMENT)
        assert set(evaluated) == {e.run_id for e in evaluations} and len(evaluations) == 2
        for e in evaluations:
            assert _metric(evaluated[e.run_id], "macro_f1") == pytest.approx(e.metrics["macro_f1"])
            files = {f["path"] for f in _get(base, "artifacts/list", run_id=e.run_id)["files"]}
            assert {"reliability_diagram.png", "worst_errors.csv", "slices.csv", "confusion_matrix.png"} <= files

        assert refused.decision == REFUSED and forced.decision == FORCED
        evidence = refused.evidence
        assert evidence is not None and evidence.candidate < evidence.champion
        by_version = {e.version: e.metrics["macro_f1"] for e in evaluations}
        assert (evidence.candidate, evidence.champion) == (by_version[weak.version], by_version[good.version])

        tags = _version_tags(base, weak.version)
        assert tags["promotion.decision"] == FORCED and tags["promotion.previous_champion"] == f"v{good.version}"
        assert f"{evidence.candidate:.4f}" in tags["promotion.reason"]
        assert _version_tags(base, good.version)["promotion.decision"] == "promoted"  # the first model, by default
        alias = _get(base, "registered-models/alias", name=MODEL_NAME, alias=CHAMPION_ALIAS)["model_version"]
        assert alias["version"] == weak.version
        card = _get(base, "model-versions/get", name=MODEL_NAME, version=good.version)["model_version"]["description"]
        assert f"heldout(v{weak.version}) (heldout)" in card
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        mlflow.set_tracking_uri(None)
