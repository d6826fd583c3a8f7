"""The model card: one markdown page per registered version, so a reviewer can judge it without digging.

The card is rebuilt from what MLflow holds (the training run, the evaluation runs, the promotion tags)
every time one of them changes, logged as ``model_card.md`` in the training run and set as the model
version's description, which is where the registry UI shows it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from pipelines.config import DEMO_FILE, LABELS, MODEL_NAME, ZH_NAMES
from pipelines.evidence import TAG_CASES, TAG_DATA, TAG_KIND, evaluation_runs, latest_per_data
from pipelines.intervals import CONFIDENCE

CARD_ARTIFACT = "model_card.md"
#: The registry keeps at most this many characters of a version description.
DESCRIPTION_LIMIT = 5000


@dataclass(frozen=True)
class MetricsRow:
    """One line of the metrics table: what was measured, on what, and where the run is."""

    data: str
    cases: int
    metrics: Mapping[str, float]
    run_id: str


#: Where a few-label training run logs how many extra rows of each source and class went into the fit.
EXTRA_ROWS_ARTIFACT = "weak/extra_rows.json"
#: The labeling functions' coverage, conflict rate and accuracy on the labeled cases (few-label runs, evaluate-real).
LF_TABLE_ARTIFACT = "weak/labeling_functions.json"
#: Cases per label of a training run, which the model card shows.
LABEL_COUNTS_ARTIFACT = "label_distribution.json"
#: What each source of extra rows is, for people reading a run or a model card.
_SOURCES = {
    "weak": "weak-labeled by the labeling functions",
    "self": "pseudo-labeled by a first fit",
    "teacher": "chats and summaries labeled by the first fit with the cue model",
    "demo": "from the synthetic demo corpus",
    "secondary": "labeled cases again under their secondary label",
}


def few_label_summary(params: Mapping[str, object], extra_rows: Mapping[str, Mapping[str, int]]) -> str:
    """What a few-label fit learned from besides the labeled cases, for the run description and the model card.

    ``params`` are the run's (flat) parameters, as logged or as read back from MLflow (where lists are text);
    runs logged before ``fewlabel.pool_texts`` and ``fewlabel.members`` existed get the sentence without them.
    """
    read = f"{int(params['fewlabel.unlabeled_texts']):,} unlabeled texts read"
    if "fewlabel.pool_texts" in params:
        read += f", {int(params['fewlabel.pool_texts']):,} of them not among the cases it was fit on"
    rows = "; ".join(f"{sum(extra_rows[k].values()):,} {text}" for k, text in _SOURCES.items() if extra_rows.get(k))
    members = str(params.get("fewlabel.members", "")).split(",")
    parts = []
    if "cues" in members:
        parts.append("on chats and summaries a logistic regression over the labeling functions' firings is averaged in")
    if "vectors" in members:
        skipped = ", ".join(re.findall(r"[a-z]+", str(params.get("fewlabel.vector_skip_genres", ""))))
        parts.append(
            f"a logistic regression over pretrained word vectors has {params['fewlabel.vector_weight']} of the say "
            f"on every genre{f' except {skipped}' if skipped else ''}"
        )
    return (
        f"Few-label training: {read}. Extra weighted rows: {rows or 'none'}."
        + (f" Besides the text model, {' and '.join(parts)}." if parts else "")
        + " Those may include the texts of the cases it is measured on (never their labels): they are learned"
        " from like any unlabeled text, as the texts of an analyst's own export would be."
    )


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "–" if value is None or math.isnan(value) else format(value, fmt)


def _labels_table(labels: Mapping[str, int]) -> list[str]:
    total = sum(labels.values())
    lines = ["| label | cases | share |", "| --- | ---: | ---: |"]
    for label in sorted(labels, key=lambda k: -labels[k]):
        lines.append(f"| {label} ({ZH_NAMES.get(label, label)}) | {labels[label]} | {labels[label] / total:.1%} |")
    return lines


def _metrics_tables(rows: Sequence[MetricsRow]) -> list[str]:
    lines = [
        f"| evaluated on | cases | macro-F1 | {CONFIDENCE:.0%} interval | accuracy | log-loss | review precision "
        "| review coverage | run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        m = row.metrics
        interval = (
            f"{_num(m.get('macro_f1_ci_low'))}–{_num(m.get('macro_f1_ci_high'))}" if "macro_f1_ci_low" in m else "–"
        )
        lines.append(
            f"| {row.data} | {row.cases} | {_num(m.get('macro_f1'))} | {interval} | {_num(m.get('accuracy'))} "
            f"| {_num(m.get('log_loss'))} | {_num(m.get('review_precision'))} "
            f"| {_num(m.get('review_coverage'), '.1%')} | `{row.run_id[:8]}` |"
        )
    lines += ["", "F1 per party:", "", "| evaluated on | " + " | ".join(LABELS) + " |"]
    lines.append("| --- |" + " ---: |" * len(LABELS))
    for row in rows:
        lines.append(f"| {row.data} | " + " | ".join(_num(row.metrics.get(f"f1_{p}")) for p in LABELS) + " |")
    return lines


def _refit(params: Mapping[str, str]) -> bool:
    """Whether the version was fit on every case and measured by cross-validation (``train --refit``)."""
    return params.get("split.refit") == "True"


def _measured_on(params: Mapping[str, str]) -> str:
    return f"out-of-fold predictions ({params['split.folds']} folds)" if _refit(params) else "held-out split"


def _split_line(params: Mapping[str, str]) -> str:
    if _refit(params):
        return (
            f"- {params['data.cases']} cases, all to train; measured by {params['split.folds']}-fold "
            f"cross-validation (folds by case id, seed {params['split.seed']}): every case predicted once by a fit "
            "that did not see it"
        )
    return (
        f"- {params['data.cases']} cases: {params['data.train_cases']} to train, {params['data.test_cases']} "
        f"held out (split by case id, seed {params['split.seed']})"
    )


def render_card(
    version: ModelVersion,
    params: Mapping[str, str],
    labels: Mapping[str, int],
    rows: Sequence[MetricsRow],
    extra_rows: Mapping[str, Mapping[str, int]] | None = None,
) -> str:
    """The card as markdown. ``rows[0]`` is the training run's own held-out measurement; ``extra_rows`` (the
    run's ``weak/extra_rows.json``) is given for a few-label training."""
    trained = rows[0].metrics
    source = Path(params["data.source"])
    synthetic = source.resolve() == DEMO_FILE.resolve()
    registered = datetime.fromtimestamp(version.creation_timestamp / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    promotion = {k.removeprefix("promotion."): v for k, v in version.tags.items() if k.startswith("promotion.")}
    lines = [
        f"# {version.name} v{version.version}",
        "",
        f"**Aliases:** {', '.join(version.aliases) or 'none'} · **Registered:** {registered} · "
        f"**Training run:** `{version.run_id}`",
        "",
        "Predicts who is responsible for a Chinese e-commerce dispute — merchant (商家), platform (平台), "
        "consumer (消费者) or logistics (物流), or `none` — from a complaint text or a customer-service chat.",
        "",
        "## Training data",
        "",
        f"- Source: `{source.name}`{' (synthetic demo corpus)' if synthetic else ''}, "
        f"data digest `{params['data.digest']}`",
        _split_line(params),
        *([f"- {few_label_summary(params, extra_rows)}"] if extra_rows is not None else []),
        "",
        *_labels_table(labels),
        "",
        "## Metrics",
        "",
        "macro-F1 averages the four parties; `none` is not averaged, but blaming a party for a `none` case "
        "counts as that party's false positive. Review precision and coverage are measured at this "
        "model's stored threshold.",
        "",
        *_metrics_tables(rows),
        "",
        "## Review threshold",
        "",
        f"Predictions with confidence below **{_num(trained['review_threshold'])}** are flagged for a person. "
        f"The threshold was chosen on the {_measured_on(params)} as the lowest confidence reaching precision "
        f"{params['review.target_precision']}; there it gave precision {_num(trained['review_precision'])} "
        f"with {_num(trained['review_coverage'], '.0%')} of cases decided without review.",
        "",
        "## Intended use",
        "",
        "Triage support: suggest the responsible party to the agent or analyst handling a dispute, and route "
        "low-confidence cases to a person. Not a final ruling on liability, and not for refunds, penalties or "
        "account actions without a person's review.",
        "",
        "## Known limits",
        "",
        *(
            [
                "- Trained on a synthetic, templated demo corpus: held-out numbers on it overstate what the model "
                "does on real disputes; read the rows measured on real labeled data."
            ]
            if synthetic
            else []
        ),
        f"- Keyword-rule baseline on the same cases: macro-F1 {_num(trained.get('keyword_baseline_macro_f1'))}.",
        "- Reads the text only: evidence outside it (tracking records, photos, order history) is not seen.",
        "- Personal data is masked before features, so order, phone and card numbers carry no signal.",
        "- Simplified Chinese e-commerce language; other languages or domains are out of scope.",
        "- Slices with few cases (see each evaluation run's `slices.csv`) give noisy numbers.",
    ]
    if promotion:
        lines += ["", "## Promotion", ""]
        lines += [f"- **{key}:** {value}" for key, value in sorted(promotion.items())]
    return "\n".join(lines) + "\n"


def _rows(client: MlflowClient, version: ModelVersion) -> list[MetricsRow]:
    train_run = client.get_run(version.run_id)
    params = train_run.data.params
    rows = [
        MetricsRow(
            f"{_measured_on(params)} at training (`{params['data.digest']}`)",
            int(params["data.test_cases"]),
            train_run.data.metrics,
            version.run_id,
        )
    ]
    for run in latest_per_data(evaluation_runs(client, str(version.version))):
        tags = run.data.tags
        rows.append(
            MetricsRow(f"{tags[TAG_DATA]} ({tags[TAG_KIND]})", int(tags[TAG_CASES]), run.data.metrics, run.info.run_id)
        )
    return rows


def publish_card(client: MlflowClient, version_number: str) -> str:
    """Rebuild the card of a version from MLflow, log it to its training run and set it as its description."""
    version = client.get_model_version(MODEL_NAME, version_number)
    params = client.get_run(version.run_id).data.params
    labels = json.loads(
        Path(mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path=LABEL_COUNTS_ARTIFACT)).read_text(
            encoding="utf-8"
        )
    )
    extra_rows = None
    if "fewlabel.unlabeled_texts" in params:
        extra_rows = json.loads(
            Path(
                mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path=EXTRA_ROWS_ARTIFACT)
            ).read_text(encoding="utf-8")
        )
    card = render_card(version, params, labels, _rows(client, version), extra_rows)
    client.log_text(version.run_id, card, CARD_ARTIFACT)
    description = card
    if len(description) > DESCRIPTION_LIMIT:
        tail = f"\n\n… (cut; the whole card is `{CARD_ARTIFACT}` in the training run)\n"
        description = description[: DESCRIPTION_LIMIT - len(tail)] + tail
    client.update_model_version(MODEL_NAME, version_number, description=description)
    return card
