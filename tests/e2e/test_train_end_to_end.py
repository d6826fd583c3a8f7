"""Train into a temporary store, then load the registered model in a fresh process elsewhere."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipelines.config import CANDIDATE_ALIAS, CHAMPION_ALIAS, MODEL_NAME
from pipelines.train import train

pytestmark = pytest.mark.slow

LOAD_AND_PREDICT = """
import json, os, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model("models:/liability-classifier@candidate")
import pipelines
texts = ["快递员把包裹弄丢了，物流一直不更新，打13812345678也没人接", "我自己拍错尺码了"]
print(json.dumps({"pred": [str(p) for p in model.predict(pd.DataFrame({"text": texts}))],
                  "pipelines": pipelines.__file__}))
"""


def test_train_register_and_load_elsewhere(mlflow_store: str, tmp_path: Path):
    first = train(sample=800)
    second = train(sample=800, run_name="second")
    assert first.aliases == [CANDIDATE_ALIAS, CHAMPION_ALIAS]
    assert second.aliases == [CANDIDATE_ALIAS]

    client = MlflowClient(mlflow_store, mlflow_store)
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version) == first.version
    assert str(client.get_model_version_by_alias(MODEL_NAME, CANDIDATE_ALIAS).version) == second.version
    run = client.get_run(second.run_id)
    assert run.data.metrics["macro_f1"] == pytest.approx(second.metrics["macro_f1"])
    assert {"accuracy", "log_loss", "f1_logistics", "recall_platform", "review_threshold"} <= set(run.data.metrics)
    assert run.inputs.dataset_inputs[0].dataset.digest == run.data.params["data.digest"]
    artifacts = {a.path for a in client.list_artifacts(second.run_id, "evaluation")}
    assert artifacts == {
        "evaluation/confusion_matrix.png",
        "evaluation/classification_report.txt",
        "evaluation/misclassified.csv",
        "evaluation/heldout.parquet",
        "evaluation/trained_cases.json",
    }

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = os.environ | {"MLFLOW_TRACKING_URI": mlflow_store, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pred"][0] == "logistics"
    assert "code" in Path(result["pipelines"]).parts, "the model must bring its own copy of the package"
    mlflow.set_tracking_uri(None)
