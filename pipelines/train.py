"""Training: a labeled export in, a registered model and one fully documented MLflow run out."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
from mlflow.data.sources import LocalArtifactDatasetSource
from mlflow.models import infer_signature
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from pipelines.baseline import predict_keywords
from pipelines.card import LABEL_COUNTS_ARTIFACT, few_label_summary, publish_card
from pipelines.cases import read_cases
from pipelines.changes import since_champion
from pipelines.config import DEMO_FILE, EXPERIMENT, PACKAGE_DIR, PARAMS_FILE, load_params
from pipelines.export import write_csv
from pipelines.fewlabel import FewLabelFit, few_label_params, fit_for_training, log_few_label
from pipelines.heldout import TRAINED_ARTIFACT, fingerprints, write_heldout
from pipelines.metrics import classification_metrics, macro_f1_bounds, review_threshold
from pipelines.model import TEXT_COLUMN, TRUSTED_TYPES, build_pipeline
from pipelines.plots import confusion_figure
from pipelines.realdata import Unlabeled, load_unlabeled
from pipelines.registry import register
from pipelines.text import clean_texts
from pipelines.tracking import experiment_id, store_lock, use_store

log = logging.getLogger(__name__)

#: What a model needs at inference; listed by hand because inferring it from the training process would
#: also pick up test tools.
RUNTIME_PACKAGES = ("mlflow", "scikit-learn", "scipy", "numpy", "pandas", "jieba", "rjieba", "skops")


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced, for the CLI to print and tests to check."""

    run_id: str
    model_uri: str
    version: str
    aliases: list[str]
    metrics: dict[str, float]


def load_labeled(
    data: Path,
    *,
    sheet: str | None = None,
    id_col: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    allow_labels: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read and validate a labeled export (file or directory) into cases."""
    return read_cases(
        data,
        need_label=True,
        sheet=sheet,
        id_col=id_col,
        text_col=text_col,
        label_col=label_col,
        allow_labels=allow_labels,
    )


def split_by_case(cases: pd.DataFrame, test_size: float | int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified split over case ids, so every row of a case lands on the same side.

    ``test_size`` is a share of the cases, or a number of cases when it is a whole number.
    """
    ids = cases.drop_duplicates("case_id")[["case_id", "label"]]
    stratify = ids["label"] if ids["label"].value_counts().min() >= 2 else None
    train_ids, _ = train_test_split(ids["case_id"], test_size=test_size, random_state=seed, stratify=stratify)
    in_train = cases["case_id"].isin(set(train_ids))
    return cases[in_train].reset_index(drop=True), cases[~in_train].reset_index(drop=True)


def stratified_sample(cases: pd.DataFrame, n_cases: int, seed: int) -> pd.DataFrame:
    """A label-stratified subset of ``n_cases`` cases (all of them when there are fewer)."""
    if n_cases >= cases["case_id"].nunique():
        return cases
    _, sample = split_by_case(cases, test_size=n_cases, seed=seed)
    return sample


def data_digest(cases: pd.DataFrame) -> str:
    """A digest of every case's id, text and label, order-independent: the same data gives the same digest."""
    rows = sorted(zip(cases["case_id"], cases["text"], cases["label"], strict=True))
    h = hashlib.sha256()
    for row in rows:
        h.update("\x1f".join(row).encode("utf-8") + b"\x1e")
    return h.hexdigest()[:16]


def pip_requirements() -> list[str]:
    """Exact versions of the inference-time packages in this environment."""
    return [f"{name}=={installed_version(name)}" for name in RUNTIME_PACKAGES]


def _flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat |= _flat_params(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _masked_frame(cases: pd.DataFrame) -> pd.DataFrame:
    """Cases as they may be written anywhere: texts cleaned, so personal data is masked."""
    return cases.assign(text=clean_texts(cases["text"]))


def _log_evaluation(
    test: pd.DataFrame, pred: np.ndarray, proba: np.ndarray, classes: list[str], out: Path, title: str
) -> None:
    """Write the figures and tables a reviewer reads (confusion matrix, report, misclassified examples) and the
    measured cases themselves, so evaluation can later compare models on exactly this split."""
    fig = confusion_figure(test["label"], pred, classes, title)
    fig.savefig(out / "confusion_matrix.png", dpi=130)
    plt.close(fig)
    report = classification_report(test["label"], pred, labels=classes, zero_division=0, digits=3)
    if "none" in classes:  # scikit-learn's macro avg is over every class; the run's macro_f1 over the parties
        report += "\nmacro avg above includes none; the run's macro_f1 averages the parties' F1 only.\n"
    (out / "classification_report.txt").write_text(report, encoding="utf-8")
    confidence = proba.max(axis=1)
    wrong = test.assign(predicted=pred, confidence=confidence)[pred != test["label"].to_numpy()]
    wrong = _masked_frame(wrong).sort_values("confidence", ascending=False)
    write_csv(wrong[["case_id", "label", "predicted", "confidence", "text"]], out / "misclassified.csv")
    write_heldout(test, out)


def train(
    data: Path | None = None,
    *,
    params_file: Path = PARAMS_FILE,
    run_name: str | None = None,
    sample: int | None = None,
    unlabeled: tuple[Path, ...] = (),
    refit: bool = False,
    **read_options: Any,
) -> TrainResult:
    """Fit on a labeled export (default: the shipped demo corpus), log everything to MLflow, register the model.

    ``sample`` keeps a stratified subset of that many cases (for quick runs and tests). ``unlabeled`` exports
    switch to few-label training (:mod:`pipelines.fewlabel`): same model shape, more training rows. They are
    read once, with the labeled export's sheet and column options, and serve every fit of the run.
    ``refit`` measures by cross-validation instead (:func:`out_of_fold`: every case predicted once by a fit that
    did not see it) and registers a fit on every case: with a few hundred labels, the fifth a split holds out is
    worth more in the model, and a measurement on every case is steadier than one on a fifth.
    """
    data = Path(data) if data else DEMO_FILE
    params = load_params(params_file)
    client = use_store()  # before the slow part: an unreachable store fails here, not after fitting
    cases = load_labeled(data, **read_options)
    pool = (
        load_unlabeled(unlabeled, **{k: read_options.get(k) for k in ("sheet", "id_col", "text_col")})
        if unlabeled
        else None
    )
    if sample is not None:
        cases = stratified_sample(cases, sample, params["split"]["seed"])
    folds = round(1 / params["split"]["test_size"]) if refit else 0
    if refit:
        train_set = test_set = cases
        log.info("training on all %d cases, measured by %d-fold cross-validation", len(cases), folds)
        few, model = fit_model(cases, pool, params, data)
        classes = [str(c) for c in model.classes_]
        proba = out_of_fold(
            cases, classes, folds, params["split"]["seed"], lambda part: fit_model(part, pool, params, data)[1]
        )
    else:
        train_set, test_set = split_by_case(cases, params["split"]["test_size"], params["split"]["seed"])
        log.info("training on %d cases, holding out %d", len(train_set), len(test_set))
        few, model = fit_model(train_set, pool, params, data)
        classes = [str(c) for c in model.classes_]
        proba = model.predict_proba(test_set[[TEXT_COLUMN]])
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    metrics = classification_metrics(test_set["label"], pred, proba, classes)
    metrics |= macro_f1_bounds(test_set["label"], pred, classes)
    metrics |= review_threshold(
        proba.max(axis=1), pred == test_set["label"].to_numpy(), params["review"]["target_precision"]
    )
    baseline = predict_keywords(clean_texts(test_set["text"]))
    metrics["keyword_baseline_macro_f1"] = classification_metrics(test_set["label"], baseline, None, classes)[
        "macro_f1"
    ]

    digest = data_digest(cases)
    name = run_name or f"{data.stem}-{len(cases)}cases-C{params['classifier']['C']}"
    with (
        store_lock(client.tracking_uri),
        mlflow.start_run(experiment_id=experiment_id(client, EXPERIMENT), run_name=name) as run,
    ):
        logged = (
            _flat_params(params)
            | {
                "data.source": str(data),
                "data.digest": digest,
                "data.cases": len(cases),
                "data.train_cases": len(train_set),
                "data.test_cases": len(test_set),
                "split.refit": refit,
                "split.folds": folds,
                "data.classes": ",".join(classes),
            }
            | (few_label_params(few) if few else {})
        )
        few_summary = few_label_summary(logged, few.extra_rows) if few else ""
        description = f"{_describe(data, cases, params, digest, few_summary, refit)} {since_champion(client, logged)}"
        mlflow.set_tag("mlflow.note.content", description)
        mlflow.log_params(logged)
        masked = _masked_frame(cases[["case_id", "text", "label"]])
        mlflow.log_input(
            mlflow.data.from_pandas(
                masked,
                source=LocalArtifactDatasetSource(data.resolve().as_uri()),
                targets="label",
                name=data.stem,
                digest=digest,
            ),
            context="training",
        )
        mlflow.log_dict(cases["label"].value_counts().to_dict(), LABEL_COUNTS_ARTIFACT)
        mlflow.log_dict(sorted(set(fingerprints(clean_texts(train_set["text"])))), TRAINED_ARTIFACT)
        if few:
            log_few_label(few)
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(params_file))
        with tempfile.TemporaryDirectory() as tmp:
            title = f"Out of fold, {folds} folds" if refit else "Held-out split"
            _log_evaluation(test_set, pred, proba, classes, Path(tmp), f"{title} ({len(test_set)} cases)")
            mlflow.log_artifacts(tmp, "evaluation")
        example = masked[[TEXT_COLUMN]].head(3)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            serialization_format="skops",
            skops_trusted_types=list(TRUSTED_TYPES),
            code_paths=[str(PACKAGE_DIR)],
            pip_requirements=pip_requirements(),
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            metadata={
                "classes": classes,
                "review_threshold": metrics["review_threshold"],
                "target_precision": params["review"]["target_precision"],
                "data_digest": digest,
                "refit": refit,
            },
        )
        version, aliases = register(client, info.model_uri, {"run_id": run.info.run_id, "data_digest": digest})
        publish_card(client, str(version.version))
    return TrainResult(run.info.run_id, info.model_uri, str(version.version), aliases, metrics)


def out_of_fold(
    cases: pd.DataFrame, classes: list[str], folds: int, seed: int, fit: Callable[[pd.DataFrame], Pipeline]
) -> np.ndarray:
    """Every case's class probabilities (columns in ``classes`` order) from a fit on the other folds.

    Folds are stratified over case ids, as :func:`split_by_case` splits; a fold whose fit never saw a class gives
    that class probability 0.
    """
    ids = cases.drop_duplicates("case_id")[["case_id", "label"]].reset_index(drop=True)
    proba = np.zeros((len(cases), len(classes)))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (_, held) in enumerate(splitter.split(ids["case_id"], ids["label"]), start=1):
        out = cases["case_id"].isin(set(ids["case_id"].iloc[held])).to_numpy()
        model = fit(cases[~out].reset_index(drop=True))
        columns = [classes.index(str(c)) for c in model.classes_]
        proba[np.ix_(out, columns)] = model.predict_proba(cases.loc[out, [TEXT_COLUMN]])
        log.info("fold %d/%d measured (%d cases)", k, folds, out.sum())
    return proba


def fit_model(
    cases: pd.DataFrame, unlabeled: Unlabeled | None, params: dict[str, Any], data: Path
) -> tuple[FewLabelFit | None, Pipeline]:
    """The model of one fit on ``cases``: few-label when there are unlabeled exports, plain otherwise."""
    if unlabeled is not None:
        few = fit_for_training(cases, unlabeled, params, data)
        return few, few.model
    return None, build_pipeline(params).fit(cases[[TEXT_COLUMN]], cases["label"])


def _describe(
    data: Path,
    cases: pd.DataFrame,
    params: dict[str, Any],
    digest: str,
    few_summary: str,
    refit: bool,
) -> str:
    labels = ", ".join(f"{k} {v}" for k, v in cases["label"].value_counts().items())
    feats, clf = params["features"], params["classifier"]
    few = f" {few_summary}" if few_summary else ""
    if refit:
        few += (
            " The registered model was fit on every case; the metrics are out of fold, each case predicted by a "
            "fit on the other folds."
        )
    return (
        f"Trained on `{data.name}` ({len(cases)} cases; {labels}; digest {digest}). "
        f"Word {feats['word_ngram']} + char {feats['char_ngram']} TF-IDF n-grams, "
        f"logistic regression C={clf['C']} ({clf['class_weight']} class weights).{few}"
    )
