"""Evaluation on the real adjudicated gold set (skipped when ../shared/data is absent)."""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from pipelines.config import MODEL_NAME
from pipelines.evaluate import evaluate
from pipelines.train import train

pytestmark = [pytest.mark.slow, pytest.mark.real]


def test_evaluate_on_gold_dev(real_dir: Path, mlflow_store: str):
    trained = train(sample=600)
    results = evaluate(real_dir / "gold" / "dev.csv")
    gold = next(r for r in results if r.kind == "gold")
    assert gold.data == "dev" and gold.cases == 702 and gold.aliases == ("candidate", "champion")
    assert {f"slice/genre/{g}/accuracy" for g in ("chat", "review", "summary", "complaint")} <= set(gold.metrics)
    assert 0.0 <= gold.metrics["macro_f1"] <= 1.0
    card = MlflowClient(mlflow_store, mlflow_store).get_model_version(MODEL_NAME, trained.version).description
    assert "| dev (gold) | 702 |" in card
