"""Honest evaluation on real text: cross-validation on the gold file, the product beside its baselines.

``dev.csv`` is the only real labeled data, so every figure here is out-of-fold: each method is fitted on
four folds (the few-label model with the unlabeled pool, inside the fold) and predicts the fifth. The same
folds serve every method, and several fold shuffles (seeds) show the spread. Methods:

- ``model``: the shipped few-label training (:func:`pipelines.fewlabel.fit_few_label`). The pool keeps the
  validation fold's texts, unlabeled, as a real training keeps the texts of an export that is scored later;
- ``model_unseen``: the same training with the validation fold's texts taken out of the pool, i.e. how the
  model does on texts it never saw (a new export scored without retraining). The gap between the two is
  what training on the texts to be scored is worth;
- ``tfidf``: the same TF-IDF + logistic regression pipeline trained on the labeled fold alone;
- ``keywords``: the keyword-rule baseline (no training);
- ``demo_only``: the pipeline trained on the synthetic demo corpus alone (how well the demo transfers).

With ``shares``, the few-label model and the TF-IDF baseline are also fitted on a stratified share of each
training fold (columns ``model_labeled25``, ``tfidf_labeled25`` for 25%), on the same folds and validation
texts: a learning curve, i.e. what more (or fewer) labeled cases would buy. The fold's other cases stay in the
pool, unlabeled, as in an export of which only that share was labeled.

Macro-F1 averages the four parties; ``none`` rows count, since blaming a party for them is a false
positive. Each method's mean macro-F1 and per-party F1, and the model's margin over the TF-IDF baseline, come
with a case-bootstrap interval (:mod:`pipelines.intervals`): how far the figure could move on another labeled set of
the same size. The predictions are saved as an artifact so that the numbers can be recomputed independently.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from pipelines.baseline import predict_keywords
from pipelines.card import LF_TABLE_ARTIFACT
from pipelines.config import DEMO_FILE, LABELS, PARAMS_FILE, load_params
from pipelines.demo import load_demo
from pipelines.export import write_csv
from pipelines.fewlabel import FewLabelSettings, fit_few_label
from pipelines.intervals import CONFIDENCE, RESAMPLES, macro_f1_interval, party_f1_intervals
from pipelines.metrics import classification_metrics, party_macro_f1
from pipelines.model import TEXT_COLUMN, build_pipeline, text_frame
from pipelines.plots import confusion_figure, learning_curve_figure
from pipelines.realdata import GENRES, load_gold, load_pool
from pipelines.text import clean_texts
from pipelines.tracking import experiment_id, store_lock, use_store
from pipelines.weak import apply_lfs, lf_table

log = logging.getLogger(__name__)

#: Cross-validation runs live apart from model evaluations, which compare registered versions.
REAL_EXPERIMENT = "liability-real-cv"
METHODS: tuple[str, ...] = ("model", "model_unseen", "tfidf", "keywords", "demo_only")
PREDICTIONS_FILE = "predictions.csv"
FOLDS = 5


@dataclass(frozen=True)
class RealEvaluation:
    """What the CLI prints: the run, the per-method mean macro-F1 and the summary table."""

    run_id: str
    summary: pd.DataFrame
    seconds: float
    #: Mean macro-F1 per share of the labeled cases (empty without ``shares``); see :func:`learning_curve`.
    curve: pd.DataFrame


def share_column(method: str, share: float) -> str:
    """The predictions column of ``method`` fitted on ``share`` of each training fold, e.g. ``model_labeled25``."""
    return f"{method}_labeled{round(share * 100)}"


def labeled_share(train: np.ndarray, labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A stratified ``share`` of the training fold's rows: the labeled export an analyst with fewer cases has.

    Stratified so that every party keeps its proportion; the validation fold is not touched.
    """
    part, _ = train_test_split(train, train_size=share, stratify=labels[train], random_state=seed)
    return np.sort(part)


def cross_validate(
    gold: pd.DataFrame,
    pool: Sequence[str],
    demo: pd.DataFrame,
    params: dict[str, Any],
    seed: int,
    shares: Sequence[float] = (),
) -> pd.DataFrame:
    """Out-of-fold predictions of every method for one shuffle of the folds: one row per gold case.

    With ``shares``, also the few-label model and the TF-IDF baseline fitted on each share of the training fold.
    """
    out = gold[["case_id", "genre", "agreement", "label"]].copy()
    out.insert(0, "seed", seed)
    texts, labels = gold["text"].to_numpy(dtype=object), gold["label"].to_numpy(dtype=object)
    secondary = gold["secondary"].to_numpy(dtype=object)
    curve_columns = [share_column(method, share) for share in shares for method in ("model", "tfidf")]
    for method in ("model", "model_unseen", "tfidf", *curve_columns):
        out[method] = ""
    out["model_confidence"] = 0.0
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    for k, (train, test) in enumerate(folds.split(texts, labels)):
        fitted = fit_few_label(texts[train], labels[train], pool, params, demo=demo, secondary=secondary[train]).model
        proba = fitted.predict_proba(text_frame(texts[test]))
        out.loc[out.index[test], "model"] = fitted.classes_[proba.argmax(axis=1)]
        out.loc[out.index[test], "model_confidence"] = proba.max(axis=1)
        held_out = set(texts[test])
        unseen_pool = [text for text in pool if text not in held_out]
        unseen = fit_few_label(texts[train], labels[train], unseen_pool, params, demo=demo, secondary=secondary[train])
        out.loc[out.index[test], "model_unseen"] = unseen.model.predict(text_frame(texts[test]))
        plain = build_pipeline(params).fit(text_frame(texts[train]), labels[train])
        out.loc[out.index[test], "tfidf"] = plain.predict(text_frame(texts[test]))
        for share in shares:
            part = labeled_share(train, labels, share, seed)
            few = fit_few_label(texts[part], labels[part], pool, params, demo=demo, secondary=secondary[part]).model
            out.loc[out.index[test], share_column("model", share)] = few.predict(text_frame(texts[test]))
            plain = build_pipeline(params).fit(text_frame(texts[part]), labels[part])
            out.loc[out.index[test], share_column("tfidf", share)] = plain.predict(text_frame(texts[test]))
        log.info("seed %d fold %d/%d done", seed, k + 1, FOLDS)
    out["keywords"] = predict_keywords(clean_texts(texts))
    return out


def method_metrics(frame: pd.DataFrame, method: str) -> dict[str, float]:
    """Macro-F1, per-class precision/recall/F1, per-genre macro-F1 and agreement accuracy of one method."""
    y, pred = frame["label"], frame[method]
    metrics = {k: v for k, v in classification_metrics(y, pred, None, LABELS).items() if not k.startswith("support")}
    for genre in GENRES:
        rows = frame["genre"] == genre
        if rows.any():
            metrics[f"genre_{genre}_macro_f1"] = party_macro_f1(y[rows], pred[rows])
    for agreement in ("both", "adjudicated"):
        rows = frame["agreement"] == agreement
        if rows.any():
            metrics[f"accuracy_{agreement}"] = float((y[rows] == pred[rows]).mean())
    parties = y != "none"
    # What learning `none` as a class costs and buys: party cases it hides, none cases it still blames.
    metrics["party_predicted_none"] = float((pred[parties] == "none").mean())
    metrics["none_blamed"] = float((pred[~parties] != "none").mean())
    return metrics


def by_seed(predictions: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` of the saved predictions as a seeds x cases array, cases sorted by id (so an interval does not
    depend on the order of the gold file's rows)."""
    cases = np.sort(predictions["case_id"].unique())
    return np.stack(
        [
            group.set_index("case_id").loc[cases, column].to_numpy(dtype=object)
            for _, group in predictions.groupby("seed")
        ]
    )


def summarize(predictions: pd.DataFrame) -> tuple[dict[str, float], pd.DataFrame]:
    """MLflow metrics (per seed, mean/std over seeds, and the case-bootstrap intervals of the mean macro-F1 and
    of each party's mean F1) and a method x metric summary table (means and the macro-F1 interval)."""
    logged: dict[str, float] = {}
    labels = by_seed(predictions, "label")[0]
    per_seed = {
        (method, seed): method_metrics(group, method)
        for seed, group in predictions.groupby("seed")
        for method in METHODS
    }
    rows = []
    for method in METHODS:
        table = pd.DataFrame([m for (meth, _), m in per_seed.items() if meth == method])
        mean, std = table.mean(), table.std(ddof=0)
        logged |= {f"{method}.{k}": float(v) for k, v in mean.items()}
        logged[f"{method}.macro_f1_std"] = float(std["macro_f1"])
        for (meth, seed), m in per_seed.items():
            if meth == method:
                logged[f"{method}.macro_f1_seed{seed}"] = m["macro_f1"]
        predicted = by_seed(predictions, method)
        interval = macro_f1_interval(labels, predicted)
        mean["macro_f1_ci_low"], mean["macro_f1_ci_high"] = interval
        logged[f"{method}.macro_f1_ci_low"], logged[f"{method}.macro_f1_ci_high"] = interval
        for party, (low, high) in party_f1_intervals(labels, predicted).items():
            logged[f"{method}.f1_{party}_ci_low"], logged[f"{method}.f1_{party}_ci_high"] = low, high
        rows.append(mean.rename(method))
    logged["model_minus_tfidf"] = logged["model.macro_f1"] - logged["tfidf.macro_f1"]
    gain = macro_f1_interval(labels, by_seed(predictions, "model"), baseline=by_seed(predictions, "tfidf"))
    logged["model_minus_tfidf_ci_low"], logged["model_minus_tfidf_ci_high"] = gain
    return logged, pd.DataFrame(rows)


def learning_curve(predictions: pd.DataFrame, shares: Sequence[float], cases: int) -> pd.DataFrame:
    """Per share of the labeled cases (1.0: the full training folds), the labeled cases a fit saw and the
    mean macro-F1 over seeds of the few-label model and of the TF-IDF baseline, with their intervals
    (``model_ci_low`` …), from the saved predictions."""
    rows = []
    training = cases * (FOLDS - 1) / FOLDS
    labels = by_seed(predictions, "label")[0]
    for share in (*sorted(shares), 1.0):
        row: dict[str, float] = {"share": share, "labeled_cases": round(training * share)}
        for method in ("model", "tfidf"):
            column = method if share == 1.0 else share_column(method, share)
            row[method] = np.mean(
                [party_macro_f1(group["label"], group[column]) for _, group in predictions.groupby("seed")]
            )
            row[f"{method}_ci_low"], row[f"{method}_ci_high"] = macro_f1_interval(labels, by_seed(predictions, column))
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate_real(
    real_dir: Path,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    params_file: Path = PARAMS_FILE,
    shares: Sequence[float] = (),
) -> RealEvaluation:
    """Cross-validate every method on ``real_dir/gold/dev.csv`` with the pool, and log it all in one run.

    ``shares`` (each between 0 and 1) add the learning curve; each share costs about one more fit per fold.
    """
    if any(not 0 < share < 1 for share in shares):
        raise ValueError(f"a labeled share must be between 0 and 1 (1 is the model itself), got {list(shares)}")
    shares = sorted({round(share, 2) for share in shares})  # one column per whole percent
    started = time.perf_counter()
    params = load_params(params_file)
    client = use_store()
    gold = load_gold(real_dir)
    pool = load_pool(real_dir)["text"].tolist()
    demo = load_demo(DEMO_FILE)
    demo_model = build_pipeline(params).fit(demo[[TEXT_COLUMN]], demo["label"])
    demo_pred = demo_model.predict(gold[[TEXT_COLUMN]])
    frames = []
    for seed in seeds:
        frame = cross_validate(gold, pool, demo, params, seed, shares)
        frame["demo_only"] = demo_pred
        frames.append(frame)
    predictions = pd.concat(frames, ignore_index=True)
    metrics, summary = summarize(predictions)
    curve = learning_curve(predictions, shares, len(gold)) if shares else pd.DataFrame()
    labels, full = by_seed(predictions, "label")[0], by_seed(predictions, "model")
    for row in curve.itertuples():
        if row.share < 1.0:
            metrics |= {f"{share_column(m, row.share)}.macro_f1": getattr(row, m) for m in ("model", "tfidf")}
            # What the rest of the labels bought, with the paired interval: the same cases score both fits.
            fewer = share_column("model", row.share)
            metrics[f"model_minus_{fewer}"] = metrics["model.macro_f1"] - row.model
            low, high = macro_f1_interval(labels, full, baseline=by_seed(predictions, fewer))
            metrics[f"model_minus_{fewer}_ci_low"], metrics[f"model_minus_{fewer}_ci_high"] = low, high
    lfs = lf_table(apply_lfs(gold["text"].tolist()), gold["label"])
    seconds = time.perf_counter() - started
    with (
        store_lock(client.tracking_uri),
        mlflow.start_run(experiment_id=experiment_id(client, REAL_EXPERIMENT), run_name=f"cv-{real_dir.name}") as run,
    ):
        mlflow.set_tag(
            "mlflow.note.content",
            f"{FOLDS}-fold stratified CV on {len(gold)} gold cases, fold seeds {list(seeds)}; methods "
            f"{', '.join(METHODS)}. Macro-F1 over the four parties with `none` rows counted; `*_ci_low/high`: the "
            f"{CONFIDENCE:.0%} interval of a macro-F1 or F1 over {RESAMPLES} case-bootstrap resamples "
            "(pipelines/intervals.py).",
        )
        mlflow.log_params(
            {"gold_cases": len(gold), "pool_texts": len(pool), "seeds": ",".join(map(str, seeds)), "folds": FOLDS}
            | {"labeled_shares": ",".join(map(str, shares)) or "none"}
            | {f"fewlabel.{k}": v for k, v in vars(FewLabelSettings.from_params(params)).items()}
        )
        mlflow.log_metrics(metrics | {"seconds": seconds})
        mlflow.log_table(lfs, LF_TABLE_ARTIFACT)
        mlflow.log_artifact(str(params_file))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            write_csv(predictions, out / PREDICTIONS_FILE, encoding="utf-8")
            write_csv(summary.round(4), out / "summary.csv", index=True, encoding="utf-8")
            for method in METHODS:
                first = predictions[predictions["seed"] == seeds[0]]
                fig = confusion_figure(first["label"], first[method], LABELS, f"{method}, out-of-fold, seed {seeds[0]}")
                fig.savefig(out / f"confusion_{method}.png", dpi=120)
                plt.close(fig)
            if not curve.empty:
                write_csv(curve.round(4), out / "learning_curve.csv", encoding="utf-8")
                fig = learning_curve_figure(
                    curve, f"{FOLDS}-fold CV on {len(gold)} gold cases, fold seeds {list(seeds)}"
                )
                fig.savefig(out / "learning_curve.png", dpi=120)
                plt.close(fig)
            mlflow.log_artifacts(tmp, "cv")
    return RealEvaluation(run.info.run_id, summary, seconds, curve)
