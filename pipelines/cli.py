"""The ``liability`` command: thin wiring from options to the stage functions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from pipelines.config import (
    CHAMPION_URI,
    DEMO_CASES,
    DEMO_FILE,
    DEMO_SEED,
    EVAL_EXPERIMENT,
    MODEL_NAME,
    PARAMS_FILE,
    ZH_NAMES,
)
from pipelines.encoder import EncoderUnavailableError
from pipelines.tables import InputError
from pipelines.tracking import StoreUnavailableError, quiet_libraries

app = typer.Typer(
    help="Predict who is responsible for a Chinese e-commerce dispute: merchant, platform, consumer, logistics or none.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


def _interval_column() -> str:
    """The header of a macro-F1 interval column (imported here: starting the CLI does not load scipy.stats)."""
    from pipelines.intervals import CONFIDENCE

    return f"{CONFIDENCE:.0%} interval"


def _interval(metrics: Mapping[str, float]) -> str:
    """A macro-F1's case-bootstrap interval (:mod:`pipelines.intervals`) as ``low-high``."""
    return f"{metrics['macro_f1_ci_low']:.3f}-{metrics['macro_f1_ci_high']:.3f}"


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logging.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    quiet_libraries()


DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        "-d",
        help=f"Labeled export: CSV/TSV/TXT/XLSX/JSONL/Parquet file or a folder of them. Default: {DEMO_FILE.name}.",
    ),
]
ParamsOpt = Annotated[Path, typer.Option(help="Hyperparameter file (TOML).")]
SheetOpt = Annotated[str | None, typer.Option(help="XLSX sheet to read (default: first non-empty).")]
IdColOpt = Annotated[str | None, typer.Option(help="Case id column, when its header is not a known alias.")]
TextColOpt = Annotated[str | None, typer.Option(help="Text column, when its header is not a known alias.")]
LabelColOpt = Annotated[str | None, typer.Option(help="Label column, when its header is not a known alias.")]
AllowLabelOpt = Annotated[
    list[str] | None,
    typer.Option(help="Accept this label as an extra class (repeatable), beyond the four parties and none."),
]
UnlabeledOpt = Annotated[
    list[Path] | None,
    typer.Option(
        help="Unlabeled export (any accepted format, chats included) or real-data folder to learn from too "
        "(repeatable): few-label training. --sheet/--id-col/--text-col apply to the files that have such a sheet "
        "or header; others are read as they come. No id column needed unless chats come as turns."
    ),
]


@app.command()
def train(
    data: DataOpt = None,
    params: ParamsOpt = PARAMS_FILE,
    sheet: SheetOpt = None,
    id_col: IdColOpt = None,
    text_col: TextColOpt = None,
    label_col: LabelColOpt = None,
    allow_label: AllowLabelOpt = None,
    run_name: Annotated[str | None, typer.Option(help="MLflow run name (default: data, size and C).")] = None,
    sample: Annotated[int | None, typer.Option(help="Train on a stratified sample of this many cases.")] = None,
    unlabeled: UnlabeledOpt = None,
    refit: Annotated[
        bool,
        typer.Option(
            help="Measure by cross-validation (every case predicted once by a fit without it) and register a fit "
            "on every case, instead of holding a fifth out (`evaluate` then needs --gold)."
        ),
    ] = False,
) -> None:
    """Train a classifier, log the run to MLflow (experiment 'liability') and register it as 'candidate'."""
    from pipelines.train import train as run_training

    try:
        result = run_training(
            data,
            params_file=params,
            run_name=run_name,
            sample=sample,
            unlabeled=tuple(unlabeled or ()),
            refit=refit,
            sheet=sheet,
            id_col=id_col,
            text_col=text_col,
            label_col=label_col,
            allow_labels=tuple(allow_label or ()),
        )
    except (InputError, StoreUnavailableError, EncoderUnavailableError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"{MODEL_NAME} v{result.version} ({', '.join(result.aliases)})")
    table.add_column("out-of-fold metric" if refit else "held-out metric")
    table.add_column("value", justify="right")
    for key in ("macro_f1", "accuracy", "log_loss", "keyword_baseline_macro_f1", "review_threshold", "review_coverage"):
        table.add_row(key, f"{result.metrics[key]:.3f}")
        if key == "macro_f1":
            table.add_row(f"  {_interval_column()}", _interval(result.metrics))
    Console().print(table)
    console.print(f"run {result.run_id} · model {result.model_uri}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the corpus.")] = DEMO_FILE,
    n: Annotated[int, typer.Option(help="Number of cases.")] = DEMO_CASES,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = DEMO_SEED,
) -> None:
    """Regenerate the synthetic demo corpus (deterministic)."""
    from pipelines.demo import write_demo

    path = write_demo(out, n_cases=n, seed=seed)
    console.print(f"wrote {path}")


@app.command()
def evaluate(
    gold: Annotated[
        Path | None, typer.Option(help="Also evaluate on this labeled file (e.g. ../shared/data/gold/dev.csv).")
    ] = None,
) -> None:
    """Evaluate candidate and champion on the candidate's held-out split (and --gold), one MLflow run each.

    A candidate fit on every case (train --refit, train-real) is evaluated on --gold alone."""
    from pipelines.evaluate import EvaluationError
    from pipelines.evaluate import evaluate as run_evaluation

    try:
        results = run_evaluation(gold)
    except (InputError, StoreUnavailableError, EvaluationError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"{MODEL_NAME} evaluation (experiment {EVAL_EXPERIMENT})")
    interval = _interval_column()
    for column in ("version", "alias", "data", "cases", "macro_f1", interval, "accuracy", "review_coverage", "run"):
        table.add_column(column, justify="right" if column in ("cases", "macro_f1", interval, "accuracy") else "left")
    for r in results:
        m = r.metrics
        table.add_row(
            f"v{r.version}",
            "+".join(r.aliases),
            r.data,
            str(r.cases),
            f"{m['macro_f1']:.3f}",
            _interval(m),
            f"{m['accuracy']:.3f}",
            f"{m['review_coverage']:.1%}",
            r.run_id,
        )
    Console(width=max(Console().width, 160)).print(table)  # wide, even in a log


@app.command()
def promote(
    force: Annotated[
        bool, typer.Option(help="Promote even if the candidate is not better (recorded as forced).")
    ] = False,
    metric: Annotated[str, typer.Option(help="Metric the candidate must beat the champion on.")] = "macro_f1",
) -> None:
    """Move the 'champion' alias to the candidate if it beats the champion on the same data; record why."""
    from pipelines.promote import REFUSED
    from pipelines.promote import promote as run_promotion

    try:
        decision = run_promotion(force=force, metric=metric)
    except (LookupError, StoreUnavailableError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    Console().print(f"{decision.decision}: {decision.reason}", soft_wrap=True)
    if decision.decision == REFUSED:
        raise typer.Exit(1)


RealOpt = Annotated[
    Path | None,
    typer.Option("--real", help="Real-data folder with gold/dev.csv and real/ (default: ../shared/data)."),
]


@app.command("train-real")
def train_real(
    real: RealOpt = None,
    params: ParamsOpt = PARAMS_FILE,
) -> None:
    """Train the real-text model: gold/dev.csv plus the unlabeled pool, cross-validated, fit on every labeled case
    and registered as 'candidate'."""
    from pipelines.config import real_data_dir
    from pipelines.realdata import GOLD_FILE

    root = real_data_dir(real)
    train(data=root / GOLD_FILE, params=params, unlabeled=[root], run_name=f"real-{root.name}-fewlabel", refit=True)


@app.command("evaluate-real")
def evaluate_real(
    real: RealOpt = None,
    seed: Annotated[list[int] | None, typer.Option(help="Fold shuffle seed (repeatable; default 0 1 2).")] = None,
    params: ParamsOpt = PARAMS_FILE,
    share: Annotated[
        list[float] | None,
        typer.Option(
            min=0.05,
            max=0.95,
            help="Also train on this share of each training fold (repeatable): a learning curve, i.e. what more "
            "labeled cases would buy. Each share adds about one training per fold.",
        ),
    ] = None,
) -> None:
    """Cross-validate the few-label model and its baselines on gold/dev.csv, all in one MLflow run."""
    from pipelines.config import real_data_dir
    from pipelines.realeval import REAL_EXPERIMENT
    from pipelines.realeval import evaluate_real as run_evaluation

    try:
        result = run_evaluation(
            real_data_dir(real), seeds=tuple(seed or (0, 1, 2)), params_file=params, shares=tuple(share or ())
        )
    except (StoreUnavailableError, EncoderUnavailableError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"cross-validated on real text (experiment {REAL_EXPERIMENT}), {result.seconds:.0f} s")
    columns = ["f1_merchant", "f1_platform", "f1_consumer", "f1_logistics", "f1_none"]
    columns += [c for c in result.summary.columns if c.startswith("genre_")]
    table.add_column("method")
    table.add_column("macro_f1", justify="right")
    table.add_column(_interval_column(), justify="right")
    for column in columns:
        table.add_column(column.removeprefix("genre_").removesuffix("_macro_f1"), justify="right")
    for method, row in result.summary.iterrows():
        table.add_row(str(method), f"{row['macro_f1']:.3f}", _interval(row), *(f"{row[c]:.3f}" for c in columns))
    Console(width=max(Console().width, 160)).print(table)
    if not result.curve.empty:
        curve = Table(title="learning curve: macro-F1 by labeled cases per training fold")
        for column in ("share", "labeled cases", "few-label model", "TF-IDF, labeled only"):
            curve.add_column(column, justify="right")
        for row in result.curve.itertuples():
            curve.add_row(f"{row.share:.0%}", str(row.labeled_cases), f"{row.model:.3f}", f"{row.tfidf:.3f}")
        console.print(curve)
    console.print(f"run {result.run_id}")


@app.command("audit-labels")
def audit_labels(
    data: Annotated[Path, typer.Option("--data", "-d", help="Labeled export to audit (as for train).")],
    out: Annotated[
        Path, typer.Option(help="Where to write the doubted rows (.csv with BOM, .xlsx, … by extension, as score).")
    ] = Path("label_audit.csv"),
    unlabeled: UnlabeledOpt = None,
    params: ParamsOpt = PARAMS_FILE,
    sheet: SheetOpt = None,
    id_col: IdColOpt = None,
    text_col: TextColOpt = None,
    label_col: LabelColOpt = None,
    allow_label: AllowLabelOpt = None,
) -> None:
    """Write the labeled rows whose label the model doubts (out-of-fold), most confident disagreement first.

    Each case is predicted by the model `train` would register from the same options, fit without that case.
    Columns: case_id, label and label_zh (the label as a code and in Chinese), suggested and suggested_zh (the
    model's party), suggested_proba, label_proba, doubt (suggested_proba - label_proba: near 1 the model is
    sure the label is wrong), secondary (if the export has one) and text (personal data masked).
    """
    from pipelines.audit import doubted_labels, write_audit
    from pipelines.config import load_params
    from pipelines.export import check_output
    from pipelines.realdata import load_unlabeled
    from pipelines.train import load_labeled

    try:
        check_output(out)  # before minutes of fitting
        cases = load_labeled(
            data,
            sheet=sheet,
            id_col=id_col,
            text_col=text_col,
            label_col=label_col,
            allow_labels=tuple(allow_label or ()),
        )
        pool = load_unlabeled(unlabeled, sheet=sheet, id_col=id_col, text_col=text_col) if unlabeled else None
        doubted = doubted_labels(cases, load_params(params), data, pool)
    except (InputError, EncoderUnavailableError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    path = write_audit(doubted, out)
    console.print(f"{len(doubted)} of {len(cases)} labels doubted; wrote {path}")


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port to serve on (127.0.0.1 only).")] = 5000) -> None:
    """Serve the MLflow UI for the project's store (or $MLFLOW_TRACKING_URI) on 127.0.0.1."""
    import os

    from pipelines.tracking import server_command, tracking_uri

    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        console.print(f"the store is a server already: open {uri}")
        return
    console.print(f"MLflow UI for {uri} at http://127.0.0.1:{port} (Ctrl-C stops it)", soft_wrap=True)
    command = server_command(uri, port)
    os.execv(command[0], command)


class Engine(StrEnum):
    """Where scoring runs: this process, or Apache Spark (``pip install .[spark]``)."""

    local = "local"
    spark = "spark"


@app.command()
def score(
    input: Annotated[
        Path, typer.Argument(help="Export to score: CSV/TSV/TXT/XLSX/JSONL/Parquet file, or a folder of them.")
    ],
    output: Annotated[
        Path | None,
        typer.Argument(
            help="Result file (.csv with BOM, .xlsx, .parquet, .tsv, .jsonl by extension); a folder for a folder "
            "input. Default: <input>.scored<ext> beside the input."
        ),
    ] = None,
    model: Annotated[
        str, typer.Option(help="Registry URI (models:/name@alias, models:/name/3) or a local MLflow model folder.")
    ] = CHAMPION_URI,
    sheet: SheetOpt = None,
    id_col: IdColOpt = None,
    text_col: TextColOpt = None,
    engine: Annotated[Engine, typer.Option(help="local: chunked, this machine. spark: CSV/Parquet on Spark.")] = (
        Engine.local
    ),
    spark_master: Annotated[str, typer.Option(help="Spark master URL (with --engine spark).")] = "local[*]",
    allow_pickle: Annotated[
        bool, typer.Option(help="Accept a pickle-format model (runs its code when loaded: trusted stores only).")
    ] = False,
) -> None:
    """Predict the responsible party for every row of an export; rows out = rows in, job logged to MLflow."""
    from mlflow.exceptions import MlflowException
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from pipelines.registry import UnsafeModelError

    try:
        if engine is Engine.spark:
            from pipelines.spark_score import score_spark

            if output is None:
                raise InputError(input, "--engine spark needs an OUTPUT")
            summary = score_spark(
                input,
                output,
                model_uri=model,
                id_col=id_col,
                text_col=text_col,
                master=spark_master,
                allow_pickle=allow_pickle,
            )
        else:
            from pipelines.score import score as run_scoring

            columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
            extra = (TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn())
            with Progress(*columns, *extra, console=console, disable=not console.is_terminal) as progress:
                tasks = {}

                def on_chunk(path: Path, rows: int, done: float) -> None:
                    if path not in tasks:
                        tasks[path] = progress.add_task(path.name, total=1.0, rows=0)
                    progress.update(tasks[path], completed=done, rows=rows)

                summary = run_scoring(
                    input,
                    output,
                    model_uri=model,
                    sheet=sheet,
                    id_col=id_col,
                    text_col=text_col,
                    allow_pickle=allow_pickle,
                    on_chunk=on_chunk,
                )
    except (InputError, UnsafeModelError, StoreUnavailableError, MlflowException) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"scored with {summary.model.name} v{summary.model.version} (run {summary.model.run_id})")
    table.add_column("")
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")
    table.add_row("read", f"{summary.rows_read:,}", "")
    table.add_row("scored", f"{summary.rows_scored:,}", "")
    for reason, n in summary.failures.most_common():
        table.add_row(f"not scored: {reason}", f"{n:,}", "")
    for party, n in summary.parties.most_common():
        table.add_row(f"{party} {ZH_NAMES.get(party, '')}", f"{n:,}", f"{n / summary.rows_scored:.1%}")
    if engine is Engine.local:  # the Spark engine predicts the party only (see pipelines.spark_score)
        table.add_row("needs review (of scored)", f"{summary.rows_to_review:,}", f"{summary.review_share:.1%}")
        table.add_row("word tokens unseen in training", "", f"{summary.unseen_token_share:.1%}")
    Console().print(table)
    rate = summary.metrics()["rows_per_second"]
    console.print(f"wrote {', '.join(summary.outputs)} · {rate:,.0f} rows/s · MLflow run {summary.run_id}")
