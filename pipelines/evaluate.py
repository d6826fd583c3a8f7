"""Evaluation: the candidate and the champion measured on the same cases, each as one MLflow run.

``mlflow.models.evaluate`` gives the standard classifier evidence (metrics, confusion matrix, per-class
metrics, ROC and precision-recall curves) and links the results to the logged model. This module adds
what a liability reviewer needs on top: the project's macro-F1 and per-party scores (the same numbers
training logs), metrics per slice (complaint vs chat, channel, category), the precision and coverage at
the model's own review threshold, a reliability diagram, a correct per-class calibration plot, and the
worst errors with masked texts.
"""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
from mlflow.data.sources import LocalArtifactDatasetSource
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from pipelines.card import publish_card
from pipelines.config import CANDIDATE_ALIAS, CHAMPION_ALIAS, EVAL_EXPERIMENT, MODEL_NAME
from pipelines.evidence import (
    GOLD,
    HELDOUT,
    TAG_ALIAS,
    TAG_BATCH,
    TAG_CASES,
    TAG_DATA,
    TAG_DIGEST,
    TAG_KIND,
    TAG_MODEL,
    TAG_MODEL_DIGEST,
    TAG_VERSION,
    VS_CHAMPION,
)
from pipelines.export import write_csv
from pipelines.heldout import (
    HELDOUT_ARTIFACT,
    SLICE_COLUMNS,
    fingerprints,
    load_heldout,
    masked_cases,
    trained_fingerprints,
)
from pipelines.intervals import macro_f1_interval
from pipelines.metrics import (
    classification_metrics,
    expected_calibration_error,
    macro_f1_bounds,
    reliability_table,
    review_at,
    scored_parties,
)
from pipelines.model import TEXT_COLUMN
from pipelines.plots import calibration_figure, reliability_figure
from pipelines.registry import alias_version, load_pyfunc
from pipelines.tracking import experiment_id, store_lock, use_store
from pipelines.train import data_digest, load_labeled

log = logging.getLogger(__name__)

#: Rows in ``worst_errors.csv``: the most confident wrong predictions, the ones that hurt most.
WORST_ERRORS = 50
#: Params that decide which cases a model trained on; if they differ, a champion may have seen the
#: candidate's held-out cases.
_SPLIT_PARAMS = ("data.digest", "split.seed", "split.test_size", "split.refit")
#: What a run from before a split param existed did.
_SPLIT_DEFAULTS = {"split.refit": "False"}


class EvaluationError(RuntimeError):
    """Nothing to evaluate (no candidate registered yet)."""


@dataclass(frozen=True)
class EvalData:
    """Labeled cases to evaluate on (texts masked), with the name and digest every run records."""

    name: str
    kind: str
    digest: str
    cases: pd.DataFrame
    source: LocalArtifactDatasetSource | None
    about: str


@dataclass(frozen=True)
class Evaluation:
    """One evaluation run, as the CLI prints it and tests check it."""

    run_id: str
    version: str
    aliases: tuple[str, ...]
    data: str
    kind: str
    digest: str
    cases: int
    metrics: dict[str, float]
    #: The model's classes, and its predicted label of every case in the data's order (what a paired
    #: comparison resamples).
    classes: tuple[str, ...] = field(repr=False)
    predicted: np.ndarray = field(repr=False, compare=False)


def heldout_data(client: MlflowClient, candidate: ModelVersion) -> EvalData:
    """The cases the candidate's training held out, read back from its run."""
    try:
        cases = load_heldout(candidate.run_id)
    except MlflowException as exc:
        raise EvaluationError(
            f"v{candidate.version} has no {HELDOUT_ARTIFACT} in its training run (it was trained before held-out "
            "cases were logged): train it again to evaluate it"
        ) from exc
    return EvalData(
        name=f"heldout(v{candidate.version})",
        kind=HELDOUT,
        digest=data_digest(cases),
        cases=cases,
        source=None,
        about=f"the {len(cases)} cases held out when v{candidate.version} was trained "
        f"(artifact `evaluation/heldout.parquet` of run `{candidate.run_id}`)",
    )


def gold_data(path: Path) -> EvalData:
    """An external labeled file, read like any training export; the digest is of the file's own texts."""
    cases = load_labeled(path)
    return EvalData(
        name=path.stem,
        kind=GOLD,
        digest=data_digest(cases),
        cases=masked_cases(cases),
        source=LocalArtifactDatasetSource(path.resolve().as_uri()),
        about=f"`{path.name}` ({len(cases)} labeled cases from {path.resolve().parent})",
    )


def _split_params(client: MlflowClient, version: ModelVersion) -> dict[str, str]:
    params = client.get_run(version.run_id).data.params
    return {k: params.get(k, _SPLIT_DEFAULTS.get(k, "")) for k in _SPLIT_PARAMS}


def _heldout_note(
    client: MlflowClient, candidate: ModelVersion, champion: ModelVersion, champion_checked: bool
) -> tuple[str, bool]:
    """What the champion's run on the candidate's held-out cases must say, and whether it is a warning.

    The champion may have trained on some of those cases (other data, another seed or size of split),
    which would flatter its numbers: :func:`without_trained_cases` leaves them out when the champion's run
    lists its training cases (``champion_checked``); for an older run, only the split params can tell.
    """
    if champion_checked:
        return (
            f"v{champion.version}'s training cases were checked against these, and any it fit on left out.",
            False,
        )
    ours, theirs = _split_params(client, candidate), _split_params(client, champion)
    if ours == theirs:
        return f"v{champion.version} was trained on the same data and split, so it never saw these cases.", False
    differing = ", ".join(f"{k} {theirs[k]} vs {ours[k]}" for k in _SPLIT_PARAMS if ours[k] != theirs[k])
    return (
        f"v{champion.version} was trained on other data or another split ({differing}); it may have seen "
        "some of these cases in training, which would flatter its numbers.",
        True,
    )


def without_trained_cases(data: EvalData, trained: dict[str, set[str] | None]) -> EvalData:
    """``data`` without the cases any model fit on (``trained``: version → its training cases' fingerprints,
    ``None`` when its run does not list them), so that every model is measured on cases it never saw, and all
    of them on the same cases.

    A gold file may hold a model's own training cases: `train-real` fits on every case of ``gold/dev.csv``,
    and measured there it would score its training figures (0.99 where cross-validation says 0.75). A
    champion trained on other data may have seen some of a candidate's held-out cases. Models whose runs
    predate the fingerprints (:data:`~pipelines.heldout.TRAINED_ARTIFACT`) cannot be checked.
    """
    prints = fingerprints(data.cases["text"])
    seen, who = np.zeros(len(prints), dtype=bool), []
    for version, cases in trained.items():
        if cases is None:
            continue
        hit = np.array([p in cases for p in prints], dtype=bool)
        if hit.any():
            who.append(f"v{version} fit on {int(hit.sum())}")
        seen |= hit
    if not seen.any():
        return data
    if seen.all():
        raise EvaluationError(
            f"every case of {data.name} was a training case ({'; '.join(who)}), so its figures there would be "
            "training figures, not a measurement: evaluate on labeled cases the models did not train on (a model "
            "of `train --refit` has its cross-validated figures in its training run)"
        )
    kept = data.cases[~seen].reset_index(drop=True)
    note = f"{int(seen.sum())} of its {len(seen)} cases left out as training cases ({'; '.join(who)})"
    log.warning("%s: %s; every model is measured on the other %d", data.name, note, len(kept))
    return replace(data, cases=kept, digest=data_digest(kept), about=f"{data.about}, {note}")


def _datasets(client: MlflowClient, candidate: ModelVersion, gold: Path | None) -> list[EvalData]:
    """The candidate's held-out split and ``gold``; ``gold`` alone for a candidate fit on every case."""
    gold_set = [gold_data(Path(gold))] if gold else []
    if _split_params(client, candidate)["split.refit"] != "True":
        return [heldout_data(client, candidate), *gold_set]
    if not gold_set:
        raise EvaluationError(
            f"v{candidate.version} was fit on every case of its training data (train --refit), so no held-out split "
            "is left to measure it (its training run has the cross-validated figures): evaluate it on labeled "
            "cases it did not train on with --gold FILE (make evaluate GOLD=FILE)"
        )
    log.info("v%s was fit on every case: evaluating on %s only", candidate.version, gold)
    return gold_set


def _slice_key(value: str) -> str:
    return re.sub(r"[^\w.\- ]", "_", value) or "_"


def slice_metrics(cases: pd.DataFrame, pred: np.ndarray, confidence: np.ndarray, threshold: float) -> pd.DataFrame:
    """Macro-F1, accuracy and review coverage per value of every slice column present.

    Macro-F1 of a slice averages the parties that occur in it: a channel without logistics cases says
    nothing about logistics. It is NaN for a slice with no party at all (only ``none`` cases).
    """
    rows = []
    truth = cases["label"].to_numpy()
    for column in (c for c in SLICE_COLUMNS if c in cases.columns):
        for value, index in cases.groupby(column).indices.items():
            y, p = truth[index], pred[index]
            present = sorted(set(y))
            macro_f1 = classification_metrics(y, p, None, present)["macro_f1"] if scored_parties(present) else np.nan
            review = review_at(confidence[index], y == p, threshold)
            rows.append(
                {
                    "column": column,
                    "value": str(value),
                    "cases": len(index),
                    "macro_f1": macro_f1,
                    "accuracy": float((y == p).mean()),
                    "review_coverage": review["review_coverage"],
                    "review_precision": review["review_precision"],
                }
            )
    return pd.DataFrame(
        rows, columns=["column", "value", "cases", "macro_f1", "accuracy", "review_coverage", "review_precision"]
    )


def _extra_evidence(
    data: EvalData, proba: np.ndarray, pred: np.ndarray, classes: list[str], threshold: float, out: Path
) -> dict[str, float]:
    """Write the project's own tables and figures into ``out`` and return the metrics MLflow lacks."""
    cases = data.cases
    confidence = proba.max(axis=1)
    correct = pred == cases["label"].to_numpy()
    metrics = classification_metrics(cases["label"], pred, proba, classes)
    metrics |= macro_f1_bounds(cases["label"], pred, classes)
    metrics |= review_at(confidence, correct, threshold)
    metrics["expected_calibration_error"] = expected_calibration_error(reliability_table(confidence, correct))

    slices = slice_metrics(cases, pred, confidence, threshold)
    write_csv(slices, out / "slices.csv")
    for row in slices.itertuples():
        for name in ("macro_f1", "accuracy"):
            value = getattr(row, name)
            if not np.isnan(value):
                metrics[f"slice/{row.column}/{_slice_key(row.value)}/{name}"] = float(value)

    wrong = cases.assign(predicted=pred, confidence=confidence)[~correct]
    columns = ["case_id", *(c for c in SLICE_COLUMNS if c in cases.columns), "label", "predicted", "confidence", "text"]
    write_csv(wrong.sort_values("confidence", ascending=False).head(WORST_ERRORS)[columns], out / "worst_errors.csv")

    title = f"{data.name} ({len(cases)} cases)"
    for name, fig in (
        ("reliability_diagram.png", reliability_figure(confidence, correct, threshold, f"Reliability on {title}")),
        ("calibration_curve_plot.png", calibration_figure(cases["label"], proba, classes, f"Calibration on {title}")),
    ):
        fig.savefig(out / name, dpi=130)
        plt.close(fig)
    return metrics


def _evaluate_one(
    client: MlflowClient,
    model: PyFuncModel,
    version: str,
    aliases: tuple[str, ...],
    data: EvalData,
    note: str,
    batch: str,
) -> Evaluation:
    """One run: MLflow's classifier evaluation, then the project's evidence beside it."""
    meta = model.metadata.metadata
    classes, threshold = list(meta["classes"]), float(meta["review_threshold"])
    role = "+".join(aliases)
    tags = {
        TAG_MODEL: MODEL_NAME,
        TAG_VERSION: version,
        TAG_ALIAS: role,
        TAG_MODEL_DIGEST: meta["data_digest"],
        TAG_DATA: data.name,
        TAG_KIND: data.kind,
        TAG_DIGEST: data.digest,
        TAG_CASES: str(len(data.cases)),
        TAG_BATCH: batch,
    }
    description = (
        f"Evaluates {MODEL_NAME} v{version} ({role}, trained on data digest {meta['data_digest']}) on {data.about}; "
        f"evaluated data digest {data.digest}. {note}".strip()
    )
    run_name = f"eval v{version} {role} on {data.name}"
    with mlflow.start_run(
        experiment_id=experiment_id(client, EVAL_EXPERIMENT), run_name=run_name, tags=tags, description=description
    ) as run:
        frame = data.cases[[TEXT_COLUMN, "label"]]
        dataset = mlflow.data.from_pandas(
            frame, source=data.source, targets="label", name=data.name, digest=data.digest
        )
        result = mlflow.models.evaluate(
            model,
            dataset,
            model_type="classifier",
            evaluator_config={"label_list": classes, "log_model_explainability": False},
        )
        proba = model.get_raw_model().predict_proba(frame[[TEXT_COLUMN]])
        predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        with tempfile.TemporaryDirectory() as tmp:
            extra = _extra_evidence(data, proba, predicted, classes, threshold, Path(tmp))
            mlflow.log_artifacts(tmp)
        extra = {k: v for k, v in extra.items() if k not in result.metrics}
        mlflow.log_metrics(extra)
    log.info("%s: macro_f1 %.3f (run %s)", run_name, extra["macro_f1"], run.info.run_id)
    return Evaluation(
        run.info.run_id,
        version,
        aliases,
        data.name,
        data.kind,
        data.digest,
        len(data.cases),
        result.metrics | extra,
        tuple(classes),
        predicted,
    )


def compare_to_champion(client: MlflowClient, candidate: Evaluation, champion: Evaluation, labels: pd.Series) -> None:
    """Log on the candidate's run (and add to its metrics) its macro-F1 minus the champion's on the same cases,
    and the paired case-bootstrap interval of that difference (:mod:`pipelines.intervals`).

    Two models measured on the same few hundred cases differ by a few hundredths by chance alone; the interval
    says whether a difference is more than that, and promotion quotes it beside the two figures.
    """
    low, high = macro_f1_interval(
        labels,
        candidate.predicted[None, :],
        baseline=champion.predicted[None, :],
        parties=scored_parties(candidate.classes),
    )
    difference = candidate.metrics["macro_f1"] - champion.metrics["macro_f1"]
    for key, value in (("", difference), ("_ci_low", low), ("_ci_high", high)):
        client.log_metric(candidate.run_id, f"{VS_CHAMPION}{key}", value)
        candidate.metrics[f"{VS_CHAMPION}{key}"] = value


def evaluate(gold: Path | None = None) -> list[Evaluation]:
    """Evaluate the candidate and the champion on the candidate's held-out split (and ``gold`` when given).

    Each (model, data) pair is one run in experiment ``liability-evaluation``; all runs of one call share
    an ``eval.batch`` tag, which is what promotion compares. The model cards are rebuilt afterwards.
    """
    client = use_store()
    candidate = alias_version(client, CANDIDATE_ALIAS)
    if candidate is None:
        raise EvaluationError(f"no '{CANDIDATE_ALIAS}' version of {MODEL_NAME} yet: train a model first")
    champion = alias_version(client, CHAMPION_ALIAS)
    models: dict[str, tuple[str, ...]] = {str(candidate.version): (CANDIDATE_ALIAS,)}
    if champion is not None:
        key = str(champion.version)
        models[key] = (*models.get(key, ()), CHAMPION_ALIAS)
    versions = {str(v.version): v for v in (candidate, champion) if v is not None}
    trained = {key: trained_fingerprints(v.run_id) for key, v in versions.items()}
    for key in (key for key, cases in trained.items() if cases is None):
        log.warning("v%s's training run does not list the cases it fit on: it cannot be checked", key)
    datasets = [without_trained_cases(data, trained) for data in _datasets(client, candidate, gold)]
    notes = dict.fromkeys(models, "")
    if champion is not None and champion.version != candidate.version:
        note, warn = _heldout_note(client, candidate, champion, trained[str(champion.version)] is not None)
        notes[str(champion.version)] = note
        if warn:
            log.warning("%s", note)
    batch = uuid.uuid4().hex[:12]
    results = []
    with store_lock(client.tracking_uri):
        for version, aliases in models.items():
            model = load_pyfunc(f"models:/{MODEL_NAME}/{version}")
            for data in datasets:
                note = notes[version] if data.kind == HELDOUT else ""
                results.append(_evaluate_one(client, model, version, aliases, data, note, batch))
        if champion is not None and champion.version != candidate.version:
            for data in datasets:
                on_data = {r.version: r for r in results if r.data == data.name}
                compare_to_champion(
                    client, on_data[str(candidate.version)], on_data[str(champion.version)], data.cases["label"]
                )
        for version in models:
            publish_card(client, version)
    return results
