"""Evaluate, promote, refuse and force through the CLI against a throwaway sqlite store."""

from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import CANDIDATE_ALIAS, CHAMPION_ALIAS, EVAL_EXPERIMENT, MODEL_NAME
from pipelines.evidence import TAG_ALIAS, TAG_BATCH, TAG_DATA, TAG_VERSION, VS_CHAMPION
from pipelines.heldout import fingerprints, trained_fingerprints
from pipelines.text import clean_texts
from pipelines.train import train
from tests.e2e.helpers import labeled_file, weak_params

pytestmark = pytest.mark.slow

EVAL_ARTIFACTS = {
    "confusion_matrix.png",
    "per_class_metrics.csv",
    "roc_curve_plot.png",
    "precision_recall_curve_plot.png",
    "calibration_curve_plot.png",
    "reliability_diagram.png",
    "slices.csv",
    "worst_errors.csv",
}


def _eval_runs(client: MlflowClient):
    experiment = client.get_experiment_by_name(EVAL_EXPERIMENT)
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])


def test_evaluate_promote_refuse_and_force(mlflow_store: str, tmp_path: Path):
    weak = train(sample=600, params_file=weak_params(tmp_path), run_name="weak")
    good = train(sample=600, run_name="good")
    client = MlflowClient(mlflow_store, mlflow_store)
    assert "classifier.C 0.01→4.0" in client.get_run(good.run_id).data.tags["mlflow.note.content"]
    runner = CliRunner()

    gold = labeled_file(tmp_path)
    done = runner.invoke(app, ["evaluate", "--gold", str(gold)])
    assert done.exit_code == 0, done.output
    # Gold cases either model fit on are left out, so both are measured on the same unseen cases.
    trained = trained_fingerprints(weak.run_id) | trained_fingerprints(good.run_id)
    gold_prints = fingerprints(clean_texts(pd.read_csv(gold, dtype=str, keep_default_na=False)["text"]))
    unseen = sum(p not in trained for p in gold_prints)
    assert 0 < unseen < len(gold_prints)
    runs = _eval_runs(client)
    assert {r.info.run_name for r in runs} == {
        f"eval v{good.version} candidate on gold-sample",
        f"eval v{good.version} candidate on heldout(v{good.version})",
        f"eval v{weak.version} champion on gold-sample",
        f"eval v{weak.version} champion on heldout(v{good.version})",
    }
    assert len({r.data.tags[TAG_BATCH] for r in runs}) == 1
    gold_good = next(
        r for r in runs if r.data.tags[TAG_DATA] == "gold-sample" and r.data.tags[TAG_ALIAS] == "candidate"
    )
    metrics = gold_good.data.metrics
    assert {"macro_f1", "f1_logistics", "recall_platform", "roc_auc", "review_precision", "review_coverage"} <= set(
        metrics
    )
    assert {"slice/genre/chat/macro_f1", "slice/genre/complaint/accuracy"} <= set(metrics)
    assert metrics["macro_f1_ci_low"] < metrics["macro_f1"] < metrics["macro_f1_ci_high"]
    # The candidate's run also carries its paired comparison with the champion on the same cases.
    gold_weak = next(r for r in runs if r.data.tags[TAG_DATA] == "gold-sample" and r.data.tags[TAG_ALIAS] == "champion")
    difference = metrics["macro_f1"] - gold_weak.data.metrics["macro_f1"]
    assert metrics[VS_CHAMPION] == pytest.approx(difference)
    assert 0 < metrics[f"{VS_CHAMPION}_ci_low"] <= difference <= metrics[f"{VS_CHAMPION}_ci_high"]
    assert VS_CHAMPION not in gold_weak.data.metrics
    assert metrics["review_threshold"] == pytest.approx(good.metrics["review_threshold"])
    assert {a.path for a in client.list_artifacts(gold_good.info.run_id)} == EVAL_ARTIFACTS
    assert gold_good.inputs.dataset_inputs[0].dataset.name == "gold-sample"
    heldout_good = next(
        r for r in runs if r.data.tags[TAG_DATA].startswith("heldout") and r.data.tags[TAG_VERSION] == good.version
    )
    assert heldout_good.data.metrics["macro_f1"] == pytest.approx(good.metrics["macro_f1"])  # same split as training
    linked = client.get_logged_model(good.model_uri.removeprefix("models:/")).metrics
    assert gold_good.info.run_id in {m.run_id for m in linked}

    done = runner.invoke(app, ["promote"])
    assert done.exit_code == 0 and done.output.startswith("promoted"), done.output
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version) == good.version
    tags = client.get_model_version(MODEL_NAME, good.version).tags
    assert tags["promotion.decision"] == "promoted" and tags["promotion.previous_champion"] == f"v{weak.version}"
    assert "gold-sample (gold" in tags["promotion.data"]
    assert f"(difference {difference:+.4f}, 95% interval +" in tags["promotion.reason"]

    # The weak model comes back as candidate: it must be refused, with both numbers, and nothing moves.
    client.set_registered_model_alias(MODEL_NAME, CANDIDATE_ALIAS, weak.version)
    assert runner.invoke(app, ["evaluate"]).exit_code == 0
    done = runner.invoke(app, ["promote"])
    assert done.exit_code == 1, done.output
    assert "refused" in done.output and done.output.count("macro_f1") == 1 and "heldout(v" in done.output
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version) == good.version
    refused = client.get_model_version(MODEL_NAME, weak.version)
    assert refused.tags["promotion.decision"] == "refused"
    assert "- **decision:** refused" in refused.description

    done = runner.invoke(app, ["promote", "--force"])
    assert done.exit_code == 0 and done.output.startswith("forced"), done.output
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version) == weak.version
    card = client.get_model_version(MODEL_NAME, good.version).description
    assert card.startswith(f"# {MODEL_NAME} v{good.version}") and f"gold-sample (gold) | {unseen} |" in card
    assert f"- **replaced_by:** v{weak.version} (forced) at " in card, "the old champion's card says it was replaced"
    assert "replaced_by" not in client.get_model_version(MODEL_NAME, weak.version).description, "champion again"
