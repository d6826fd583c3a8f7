"""`train --refit`: measured on the held-out split, then registered as a fit on every case; `evaluate` then
measures it on an external file only, because the split is no longer unseen."""

from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import DEMO_FILE, PARAMS_FILE, load_params
from pipelines.evaluate import EvaluationError, evaluate
from pipelines.model import TEXT_COLUMN, build_pipeline
from pipelines.train import load_labeled, split_by_case, stratified_sample, train
from tests.e2e.helpers import labeled_file

pytestmark = pytest.mark.slow

CASES = 300


def _word_vocabulary(model) -> dict[str, int]:
    """The word TF-IDF block's vocabulary of a fitted pipeline (the block fitting depends on every text)."""
    text = model.named_steps["select"].named_transformers_["text"]
    return dict(text.named_steps["features"].transformer_list[0][1].vocabulary_)


def test_refit_registers_a_fit_on_every_case_and_evaluates_on_gold_only(mlflow_store: str, tmp_path: Path):
    result = train(sample=CASES, refit=True, run_name="refit")
    client = MlflowClient(mlflow_store, mlflow_store)
    params = client.get_run(result.run_id).data.params
    assert params["split.refit"] == "True"
    assert params["data.fit_cases"] == str(CASES)
    assert int(params["data.test_cases"]) > 0

    settings = load_params(PARAMS_FILE)
    cases = stratified_sample(load_labeled(DEMO_FILE), CASES, settings["split"]["seed"])
    train_set, _ = split_by_case(cases, settings["split"]["test_size"], settings["split"]["seed"])
    on_all = build_pipeline(settings).fit(cases[[TEXT_COLUMN]], cases["label"])
    on_split = build_pipeline(settings).fit(train_set[[TEXT_COLUMN]], train_set["label"])
    registered = mlflow.sklearn.load_model(result.model_uri)
    assert _word_vocabulary(registered) == _word_vocabulary(on_all)
    assert _word_vocabulary(registered) != _word_vocabulary(on_split)

    with pytest.raises(EvaluationError, match="refit on every case"):
        evaluate()
    done = CliRunner().invoke(app, ["evaluate"])
    assert done.exit_code == 2 and "--gold" in done.output
    results = evaluate(labeled_file(tmp_path))
    assert [(r.version, r.data) for r in results] == [(result.version, "gold-sample")]
    mlflow.set_tracking_uri(None)
