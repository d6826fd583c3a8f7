"""`train --refit`: measured by cross-validation, registered as a fit on every case; `evaluate` then measures it
on an external file only, because no case is left unseen."""

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import DEMO_FILE, PARAMS_FILE, load_params
from pipelines.evaluate import EvaluationError, evaluate
from pipelines.heldout import HELDOUT_ARTIFACT as HELDOUT
from pipelines.intervals import macro_f1_interval
from pipelines.model import TEXT_COLUMN, build_pipeline
from pipelines.text import clean_texts
from pipelines.train import load_labeled, split_by_case, stratified_sample, train
from tests.e2e.helpers import labeled_file

pytestmark = pytest.mark.slow

CASES = 300
MISCLASSIFIED = "evaluation/misclassified.csv"


def _word_vocabulary(model) -> dict[str, int]:
    """The word TF-IDF block's vocabulary of a fitted pipeline (the block fitting depends on every text)."""
    text = model.named_steps["select"].named_transformers_["text"]
    return dict(text.named_steps["features"].transformer_list[0][1].vocabulary_)


def test_refit_registers_a_fit_on_every_case_and_evaluates_on_gold_only(mlflow_store: str, tmp_path: Path):
    result = train(sample=CASES, refit=True, run_name="refit")
    client = MlflowClient(mlflow_store, mlflow_store)
    run = client.get_run(result.run_id)
    params = run.data.params
    assert (params["split.refit"], params["split.folds"]) == ("True", "5")
    assert params["data.train_cases"] == params["data.test_cases"] == str(CASES)
    # Every case was predicted out of fold: the logged errors are exactly the cases the accuracy missed.
    wrong = pd.read_csv(mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path=MISCLASSIFIED))
    assert len(wrong) == round((1 - run.data.metrics["accuracy"]) * CASES)
    assert (
        len(pd.read_parquet(mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path=HELDOUT))) == CASES
    )

    settings = load_params(PARAMS_FILE)
    cases = stratified_sample(load_labeled(DEMO_FILE), CASES, settings["split"]["seed"])
    train_set, _ = split_by_case(cases, settings["split"]["test_size"], settings["split"]["seed"])
    on_all = build_pipeline(settings).fit(cases[[TEXT_COLUMN]], cases["label"])
    on_split = build_pipeline(settings).fit(train_set[[TEXT_COLUMN]], train_set["label"])
    # The run's accuracy is that of predictions out of fold, recomputed here with scikit-learn alone.
    folds = StratifiedKFold(5, shuffle=True, random_state=settings["split"]["seed"])
    predicted = cross_val_predict(build_pipeline(settings), cases[[TEXT_COLUMN]], cases["label"], cv=folds)
    assert run.data.metrics["accuracy"] == pytest.approx((predicted == cases["label"]).mean())
    # Its macro-F1 interval is the case bootstrap of those same predictions.
    interval = (run.data.metrics["macro_f1_ci_low"], run.data.metrics["macro_f1_ci_high"])
    assert interval == pytest.approx(macro_f1_interval(cases["label"], predicted[None, :]))
    assert interval[0] < run.data.metrics["macro_f1"] < interval[1]
    registered = mlflow.sklearn.load_model(result.model_uri)
    assert _word_vocabulary(registered) == _word_vocabulary(on_all)
    assert _word_vocabulary(registered) != _word_vocabulary(on_split)

    with pytest.raises(EvaluationError, match="fit on every case"):
        evaluate()
    done = CliRunner().invoke(app, ["evaluate"])
    assert done.exit_code == 2 and "--gold" in done.output
    gold = labeled_file(tmp_path)
    results = evaluate(gold)
    assert [(r.version, r.data) for r in results] == [(result.version, "gold-sample")]
    # The gold file's cases that the model fit on are left out: it is measured on the others only.
    gold_texts = clean_texts(pd.read_csv(gold, dtype=str, keep_default_na=False)["text"])
    trained = set(clean_texts(cases["text"]))
    assert 0 < results[0].cases == sum(text not in trained for text in gold_texts) < len(gold_texts)
    # Its own training file would give training figures, not a measurement: refused.
    own = tmp_path / "own.csv"
    cases[["case_id", "text", "label"]].to_csv(own, index=False)
    with pytest.raises(EvaluationError, match="every case of own was a training case"):
        evaluate(own)
    mlflow.set_tracking_uri(None)
