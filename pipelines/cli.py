"""The ``liability`` command: thin wiring from options to the stage functions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from pipelines.config import DEMO_FILE, MODEL_NAME, PARAMS_FILE
from pipelines.tables import InputError

app = typer.Typer(
    help="Predict who is responsible for a Chinese e-commerce dispute: merchant, platform, consumer or logistics.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logging.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    for noisy in ("jieba", "alembic", "mlflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        "-d",
        help=f"Labeled export: CSV/XLSX/JSONL/Parquet file or a folder of them. Default: {DEMO_FILE.name}.",
    ),
]


@app.command()
def train(
    data: DataOpt = None,
    params: Annotated[Path, typer.Option(help="Hyperparameter file (TOML).")] = PARAMS_FILE,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet to read (default: first non-empty).")] = None,
    id_col: Annotated[str | None, typer.Option(help="Case id column, when its header is not a known alias.")] = None,
    text_col: Annotated[str | None, typer.Option(help="Text column, when its header is not a known alias.")] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column, when its header is not a known alias.")] = None,
    allow_label: Annotated[
        list[str] | None,
        typer.Option(help="Accept this label as an extra class (repeatable), beyond the four parties and none."),
    ] = None,
    run_name: Annotated[str | None, typer.Option(help="MLflow run name (default: data, size and C).")] = None,
    sample: Annotated[int | None, typer.Option(help="Train on a stratified sample of this many cases.")] = None,
) -> None:
    """Train a classifier, log the run to MLflow (experiment 'liability') and register it as 'candidate'."""
    from pipelines.train import train as run_training

    try:
        result = run_training(
            data,
            params_file=params,
            run_name=run_name,
            sample=sample,
            sheet=sheet,
            id_col=id_col,
            text_col=text_col,
            label_col=label_col,
            allow_labels=tuple(allow_label or ()),
        )
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    table = Table(title=f"{MODEL_NAME} v{result.version} ({', '.join(result.aliases)})")
    table.add_column("held-out metric")
    table.add_column("value", justify="right")
    for key in ("macro_f1", "accuracy", "log_loss", "keyword_baseline_macro_f1", "review_threshold", "review_coverage"):
        table.add_row(key, f"{result.metrics[key]:.3f}")
    Console().print(table)
    console.print(f"run {result.run_id} · model {result.model_uri}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the corpus.")] = DEMO_FILE,
    n: Annotated[int, typer.Option(help="Number of cases.")] = 6000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 20261125,
) -> None:
    """Regenerate the synthetic demo corpus (deterministic)."""
    from pipelines.demo import write_demo

    path = write_demo(out, n_cases=n, seed=seed)
    console.print(f"wrote {path}")
