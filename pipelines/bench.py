"""``make bench``: how fast every stage is, as ratios against baselines measured in the same run.

Absolute seconds depend on the machine and on whatever else it runs, so each figure that has a target is
compared with a baseline timed beside it: the rjieba tokenizer with ``jieba.lcut``, the scorer with a naive
``TfidfVectorizer(tokenizer=jieba.lcut)`` pipeline fitted on the same cases and predicting the same file.

Data at size is made with a fixed seed, in a temporary folder (never in the project): labeled training
cases come from the demo generator (resampling the 6,000 shipped cases would give a 6,000-text vocabulary
and understate training cost); files to score resample the shipped demo texts and the real unlabeled pool
(``real_data_dir()/real``, read in place; demo texts only when it is absent). Scoring, memory and cold-start
figures come from child processes, so each peak memory is that run's own and each cold start is really cold.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipelines.config import DEMO_FILE, PROJECT_ROOT, load_params, real_data_dir
from pipelines.demo import generate
from pipelines.model import TEXT_COLUMN, TRUSTED_TYPES, build_pipeline, text_frame
from pipelines.text import clean_texts
from pipelines.tokenize import tokenize, tokenize_with

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)

EXPERIMENT = "liability-bench"
OUTPUT_FILE = PROJECT_ROOT / "outputs" / "bench.md"
#: Texts of 60-140 characters stand for complaints (about 100 characters) in the complaint-length figure.
COMPLAINT_CHARS = (60, 140)
#: Rows per task when tokenizing across processes: big enough that pickling overhead stays small.
TOKENIZE_CHUNK = 2_000
#: The memory figure with a target: peak PSS summed over the scorer and its workers (shared pages counted
#: once), sampled every 0.1 s, and never below the largest single-process peak RSS (a floor for the sum).
MEMORY_MEASURE = "peak memory scoring (PSS, all processes)"
#: An exemplary complaint for the cold start.
ONE_CASE = "我在京东买的手机，快递三天了还没到，物流一直不更新，联系快递员也不接电话"


@dataclass(frozen=True)
class BenchSizes:
    """How much data each measurement uses; the defaults are the issue's sizes and fit in 10 minutes on 2 cores."""

    train: tuple[int, ...] = (10_000, 30_000, 100_000)
    score: tuple[int, ...] = (10_000, 100_000)
    memory_rows: int = 1_000_000
    complaint_rows: int = 100_000
    token_texts: int = 5_000
    #: Runs of each side of the tokenizing and scoring ratios (ours and the naive baseline); the best of each counts.
    ratio_repeats: int = 3
    seed: int = 20261125


@dataclass(frozen=True)
class Row:
    """One line of the table: a measured value, and (for targets) its baseline and the ratio between them."""

    measure: str
    size: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def key(self) -> str:
        """An MLflow metric name for this row."""
        return "".join(c if c.isalnum() else "_" for c in f"{self.measure}_{self.size}").strip("_").lower()


# --- data ------------------------------------------------------------------------------------------------


def text_pool(real_dir: Path | None = None) -> list[str]:
    """Every text to resample: the shipped demo corpus and, when present, the real unlabeled pool as training
    reads it (:func:`pipelines.realdata.load_pool`) plus the food-delivery reviews training leaves out: short
    real texts, which the bench's files have always held, so that its figures stay comparable across runs."""
    from pipelines.realdata import load_pool, pool_root  # not at the top: cold starts would pay for pandera

    texts = pd.read_csv(DEMO_FILE, usecols=["text"])["text"].dropna().astype(str).tolist()
    root = real_dir or real_data_dir()
    if pool_root(root) is None:
        log.warning("real pool not found under %s: resampling the demo corpus only", root)
        return texts
    waimai = pd.read_csv(root / "real" / "waimai.csv", dtype=str, keep_default_na=False)["text"]
    return texts + load_pool(root)["text"].tolist() + waimai[waimai.str.strip().ne("")].tolist()


@dataclass(frozen=True)
class ScoreFile:
    """A file to score: its label in the table, its rows, and what it is compared with."""

    label: str
    rows: int
    path: Path
    kind: str = "plain"  # "naive": the ratio with a target; "distinct": a ratio too; "complaint"; "memory"


def write_cases(texts: Sequence[str], n: int, path: Path, seed: int, label: str, kind: str = "plain") -> ScoreFile:
    """A CSV of ``n`` cases (``case_id,text``) resampled with replacement from ``texts``.

    Resampling repeats texts, and the scorer scores a text once per file, so the table names how many
    distinct texts each file holds: a file of all-distinct texts would score more slowly.
    """
    picks = np.random.default_rng(seed).integers(0, len(texts), n)
    pool = np.asarray(texts, dtype=object)
    frame = pd.DataFrame({"case_id": [f"B{i:07d}" for i in range(n)], "text": pool[picks]})
    frame.to_csv(path, index=False, encoding="utf-8")
    return ScoreFile(f"{label} ({frame['text'].nunique():,} distinct)", n, path, kind)


# --- measurements ----------------------------------------------------------------------------------------


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _tokenize_chunk(texts: list[str]) -> int:
    """Tokenize a chunk in a worker; only the count travels back, as when tokenizing feeds a count matrix."""
    return sum(len(tokenize(t)) for t in texts)


def bench_tokenize(texts: list[str], repeats: int = 1) -> list[Row]:
    """MB/s of the model's tokenizer (1 process and every core) against ``jieba.lcut``, and token parity.

    Each side runs ``repeats`` times, interleaved so that a busy moment of the machine hits every side, and the
    best of each counts (as for the scoring ratio)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    cleaned = clean_texts(texts)
    megabytes = sum(len(t.encode("utf-8")) for t in cleaned) / 1e6
    jieba.lcut("预热"), tokenize("预热"), tokenize_with("预热", "jieba")  # dictionaries load outside the timing
    chunks = [cleaned[i : i + TOKENIZE_CHUNK] for i in range(0, len(cleaned), TOKENIZE_CHUNK)]
    cores = os.cpu_count() or 1
    naive = fast = both = float("inf")
    with joblib.Parallel(n_jobs=-1) as parallel:
        parallel(joblib.delayed(_tokenize_chunk)(c) for c in chunks)  # start the workers, load their dictionaries
        for _ in range(repeats):
            naive = min(naive, _timed(lambda: [jieba.lcut(t) for t in cleaned])[0])
            fast = min(fast, _timed(lambda: [tokenize(t) for t in cleaned])[0])
            both = min(both, _timed(lambda: parallel(joblib.delayed(_tokenize_chunk)(c) for c in chunks))[0])
    same = sum(tokenize_with(t, "jieba") == tokenize(t) for t in cleaned) / len(cleaned)
    size = f"{len(texts):,} texts" + (f", best of {repeats}" if repeats > 1 else "")
    return [
        Row("tokenize MB/s, jieba.lcut (naive)", size, megabytes / naive, "MB/s"),
        Row(
            "tokenize MB/s, rjieba, 1 process",
            size,
            megabytes / fast,
            "MB/s",
            megabytes / naive,
            "≥10x",
            naive >= 10 * fast,
        ),
        Row(
            f"tokenize MB/s, rjieba, {cores} processes",
            size,
            megabytes / both,
            "MB/s",
            megabytes / naive,
            "≥10x",
            megabytes / both >= 10 * megabytes / naive,
        ),
        Row("tokens identical, rjieba vs jieba backend", size, same, "share", None, "1.0", same == 1.0),
    ]


def jieba_lcut(text: str) -> list[str]:
    """``jieba.lcut`` itself; a top-level function because the bound method cannot be pickled with the model."""
    import jieba

    return jieba.lcut(text)


def naive_pipeline() -> Pipeline:
    """The baseline of the issue: jieba.lcut tokens, default TF-IDF, logistic regression, nothing else."""
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    jieba.setLogLevel(logging.WARNING)
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(tokenizer=jieba_lcut, token_pattern=None)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )


def bench_train(cases: pd.DataFrame, sizes: Sequence[int], workdir: Path) -> tuple[list[Row], Path, Path]:
    """Fit time of the model at each size (clean and tokenize included) and its growth.

    Returns the rows, the largest model as an MLflow model folder, and the naive baseline's model file.
    """
    import mlflow

    from pipelines.train import pip_requirements

    params = load_params()
    rows, seconds = [], []
    model = None
    for n in sizes:
        subset = cases.iloc[:n]
        model = build_pipeline(params)
        elapsed, _ = _timed(lambda: model.fit(subset[[TEXT_COLUMN]], subset["label"]))  # noqa: B023
        seconds.append(elapsed)
        log.info("trained on %d cases in %.1f s", n, elapsed)
    # The naive model is only a scoring baseline (its speed is jieba.lcut per row, whatever it was fitted on),
    # so it is fitted once, on the smallest size, single-threaded like the model (see SerialLogisticRegression).
    naive = naive_pipeline()
    with threadpool_limits(limits=1):
        naive.fit(cases[TEXT_COLUMN].iloc[: sizes[0]].tolist(), cases["label"].iloc[: sizes[0]])
    for n, s in zip(sizes, seconds, strict=True):
        is_target = n == 100_000
        rows.append(
            Row(
                "train seconds (clean + tokenize + fit)",
                f"{n:,} cases",
                s,
                "s",
                None,
                "<60 s" if is_target else "",
                s < 60 if is_target else None,
            )
        )
    if len(sizes) > 1:
        growth = math.log(seconds[-1] / seconds[0]) / math.log(sizes[-1] / sizes[0])
        rows.append(
            Row(
                "train time growth exponent (1 = linear)",
                f"{sizes[0]:,}→{sizes[-1]:,}",
                growth,
                "",
                None,
                "≈1",
                growth < 1.25,
            )
        )
    model_dir = workdir / "model"
    mlflow.sklearn.save_model(
        model,
        str(model_dir),
        serialization_format="skops",
        skops_trusted_types=list(TRUSTED_TYPES),
        pip_requirements=pip_requirements(),  # as a trained model's: inferring them loads the model again
        metadata={"classes": [str(c) for c in model.classes_], "review_threshold": 0.5},
    )
    naive_file = workdir / "naive.joblib"
    joblib.dump(naive, naive_file)
    size_mb = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file()) / 1e6
    rows.append(Row("model size on disk (MLflow folder, skops)", f"{sizes[-1]:,} cases", size_mb, "MB"))
    return rows, model_dir, naive_file


def _child(task: str, *args: str) -> dict[str, float]:
    """Run one task in a fresh Python process; returns what it printed, with its wall time seen from here."""
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.bench", "--child", task, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"bench child '{task}' failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"wall": wall}


def _scoring_store(workdir: Path) -> str:
    """The store the scoring children log their jobs to: a throwaway one, so they stay out of the project's."""
    return f"sqlite:///{workdir / 'scoring-mlflow.db'}"


def bench_score(
    model_dir: Path, naive_file: Path, files: Sequence[ScoreFile], workdir: Path, repeats: int = 1
) -> list[Row]:
    """End-to-end rows/s (file in, file out) of the scorer and of the naive pipeline, peak memory, cold start."""
    store = _scoring_store(workdir)
    rows = []
    measure = "score rows/s, liability score"
    for file in files:
        target = str(workdir / f"scored-{file.path.stem}.csv")
        ours = _child("score", str(model_dir), str(file.path), target, store, str(file.kind == "memory"))
        log.info("scored %s in %.1f s", file.label, ours["seconds"])
        rows_s = file.rows / ours["seconds"]
        if file.kind == "naive":
            # The ratio has a target, so both sides get the same repeats, interleaved so that a busy moment of
            # the machine hits both, and the best of each counts (as timeit does).
            naive_target = str(workdir / f"naive-{file.path.stem}.csv")
            naive_s = [_child("naive", str(naive_file), str(file.path), naive_target)["seconds"]]
            for _ in range(repeats - 1):
                ours_again = _child("score", str(model_dir), str(file.path), target, store, "False")
                ours["seconds"] = min(ours["seconds"], ours_again["seconds"])
                naive_s.append(_child("naive", str(naive_file), str(file.path), naive_target)["seconds"])
            rows_s, naive_rs = file.rows / ours["seconds"], file.rows / min(naive_s)
            label = f"{file.label.removesuffix(')')}, best of {repeats})"
            rows.append(Row("score rows/s, naive jieba.lcut pipeline", label, naive_rs, "rows/s"))
            rows.append(Row(measure, label, rows_s, "rows/s", naive_rs, "≥5x", rows_s >= 5 * naive_rs))
        elif file.kind == "distinct":
            # No target: how the scorer fares when nothing repeats, the naive pipeline's best case.
            naive = _child("naive", str(naive_file), str(file.path), str(workdir / f"naive-{file.path.stem}.csv"))
            naive_rs = file.rows / naive["seconds"]
            rows.append(Row("score rows/s, naive jieba.lcut pipeline", file.label, naive_rs, "rows/s"))
            rows.append(Row(measure, file.label, rows_s, "rows/s", naive_rs))
        elif file.kind == "complaint":
            rows.append(Row(measure, file.label, rows_s, "rows/s", None, "≥20,000", rows_s >= 20_000))
        else:
            rows.append(Row(measure, file.label, rows_s, "rows/s"))
        if file.kind == "memory":
            # A short peak of one process can fall between samples; its own peak RSS is a floor for the tree.
            peak = max(ours["pss_mb"], ours["maxrss_mb"])
            rows.append(Row(MEMORY_MEASURE, file.label, peak, "MB", None, "<1,500 MB", peak < 1500))
            rows.append(
                Row("peak memory scoring (RSS summed, shared pages per process)", file.label, ours["rss_sum_mb"], "MB")
            )
    cold = _child("cold", str(model_dir))
    rows.append(
        Row("cold start: load model + score one case", "1 case", cold["wall"], "s", None, "<3 s", cold["wall"] < 3)
    )
    return rows


def local_model(model_uri: str, workdir: Path) -> Path:
    """A model folder for the scoring children: a folder as it is, a registry or run URI downloaded from the
    project's store (the children log their scoring jobs to a throwaway store that holds no models)."""
    if Path(model_uri).is_dir():
        return Path(model_uri)
    import mlflow  # here, not at the top: every timed child imports this module, and cold starts would pay

    from pipelines.tracking import use_store

    use_store()
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(workdir / "other-model")))


def bench_other_model(model_uri: str, bench_model: Path, files: Sequence[ScoreFile], workdir: Path) -> list[Row]:
    """End-to-end rows/s of another model (``make bench MODEL=…``, e.g. the real-text model of ``make
    train-real``) on the same files, each against the bench's own model timed just before it, and its cold start.

    A few-label model carries the cue model and the word vectors; this is where their cost shows, with the
    targets the bench's own model meets (≥ 20,000 rows/s on complaint-length texts, a cold start under 3 s).
    """
    store = _scoring_store(workdir)
    other = local_model(model_uri, workdir)
    measure = f"score rows/s, {model_uri}"
    rows = []
    for file in files:
        target = str(workdir / f"other-{file.path.stem}.csv")
        ours = file.rows / _child("score", str(bench_model), str(file.path), target, store, "False")["seconds"]
        theirs = file.rows / _child("score", str(other), str(file.path), target, store, "False")["seconds"]
        if file.kind == "complaint":
            rows.append(Row(measure, file.label, theirs, "rows/s", ours, "≥20,000", theirs >= 20_000))
        else:
            rows.append(Row(measure, file.label, theirs, "rows/s", ours))
    cold = _child("cold", str(other))["wall"]
    rows.append(Row(f"cold start, {model_uri}", "1 case", cold, "s", None, "<3 s", cold < 3))
    return rows


def run_bench(sizes: BenchSizes, workdir: Path, model_uri: str | None = None) -> list[Row]:
    """Every measurement of the table, in order; data files are written under ``workdir``. With ``model_uri``,
    the scoring figures of that model follow (:func:`bench_other_model`)."""
    pool = text_pool()
    rng = np.random.default_rng(sizes.seed)
    log.info("tokenization on %d texts", sizes.token_texts)
    rows = bench_tokenize([pool[i] for i in rng.integers(0, len(pool), sizes.token_texts)], sizes.ratio_repeats)
    log.info("training at %s cases", ", ".join(f"{n:,}" for n in sizes.train))
    cases = generate(max(sizes.train), seed=sizes.seed)
    train_rows, model_dir, naive_file = bench_train(cases, sizes.train, workdir)
    rows += train_rows
    lo, hi = COMPLAINT_CHARS
    # Real texts of complaint length are few (about 9,000 distinct): the generated cases of that length are
    # added so that the file is not mostly repeats, which would flatter the scorer.
    complaints = [t for t in [*pool, *cases["text"]] if lo <= len(t) <= hi]
    files = [write_cases(pool, n, workdir / f"cases-{n}.csv", sizes.seed + n, f"{n:,} cases") for n in sizes.score[:-1]]
    n = sizes.score[-1]
    files.append(write_cases(pool, n, workdir / f"cases-{n}.csv", sizes.seed + n, f"{n:,} cases", "naive"))
    generated = cases[["case_id", "text"]].iloc[: sizes.score[-1]]
    generated.to_csv(workdir / "generated.csv", index=False)
    label = f"{len(generated):,} generated cases ({generated['text'].nunique():,} distinct)"
    files.append(ScoreFile(label, len(generated), workdir / "generated.csv", "distinct"))
    n = sizes.complaint_rows
    label = f"{n:,} complaint-length"
    files.append(write_cases(complaints, n, workdir / "complaints.csv", sizes.seed, label, "complaint"))
    n = sizes.memory_rows
    files.append(write_cases(pool, n, workdir / "cases-memory.csv", sizes.seed, f"{n:,} cases", "memory"))
    log.info("scoring %s", ", ".join(f.label for f in files))
    rows += bench_score(model_dir, naive_file, files, workdir, sizes.ratio_repeats)
    if model_uri is not None:
        log.info("scoring with %s", model_uri)
        rows += bench_other_model(model_uri, model_dir, [f for f in files if f.kind != "memory"], workdir)
    return rows


# --- output ----------------------------------------------------------------------------------------------

COLUMNS = ("measure", "size", "value", "baseline", "ratio", "target", "met")


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return ""
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3f}"
    return f"{text} {unit}".strip()


def table_cells(row: Row) -> tuple[str, ...]:
    """The printed cells of a row, in :data:`COLUMNS` order."""
    ratio = f"{row.ratio:.1f}x" if row.ratio is not None else ""
    met = "" if row.met is None else "yes" if row.met else "no"
    return (row.measure, row.size, _fmt(row.value, row.unit), _fmt(row.baseline, row.unit), ratio, row.target, met)


def markdown(rows: Sequence[Row], command: str) -> str:
    """The table as Markdown, headed by the command, date and machine that produced it."""
    head = (
        f"`{command}` on {date.today().isoformat()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.machine()}\n\n"
    )
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in table_cells(r)) + " |" for r in rows]
    return head + "\n".join(lines) + "\n"


def print_table(rows: Sequence[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="liability bench")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("measure", "size", "target") else "right")
    for row in rows:
        table.add_row(*table_cells(row))
    Console().print(table)


def log_run(rows: Sequence[Row], sizes: BenchSizes, table_file: Path) -> str:
    """One run in experiment ``liability-bench``: sizes and cores as params, every figure as a metric."""
    import mlflow

    from pipelines.tracking import experiment_id, store_lock, use_store

    client = use_store()
    with store_lock(client.tracking_uri), mlflow.start_run(experiment_id=experiment_id(client, EXPERIMENT)) as run:
        mlflow.log_params({k: ",".join(map(str, v)) if isinstance(v, tuple) else v for k, v in asdict(sizes).items()})
        mlflow.log_params({"cores": os.cpu_count(), "python": platform.python_version()})
        metrics = {}
        for row in rows:
            metrics[row.key] = row.value
            if row.ratio is not None:
                metrics[f"{row.key}_ratio"] = row.ratio
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(table_file))
    return run.info.run_id


# --- child tasks -----------------------------------------------------------------------------------------


def _peak_mb() -> float:
    """Peak resident memory of this process and of its finished children (its scoring workers), in MiB.

    This process's own peak is the high-water mark of its address space (``VmHWM``), not its ``ru_maxrss``:
    Linux carries the spawning process's peak over an exec into ``ru_maxrss``, so a child started by a bench
    that had trained a 100,000-case model reported that 1.7 GB as its own peak.
    """
    status = Path("/proc/self/status").read_text()
    own = int(status.split("VmHWM:")[1].split()[0])  # KiB
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # forked, never exec'd: their own
    return max(own, children) / 1024


def _tree_pids(root: int) -> list[int]:
    """``root`` and every process descending from it (the scorer's workers and anything they start)."""
    parent_of: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent_of[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # a process that ended while being read
            continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parent_of.items() if parent in frontier]
        tree += frontier
    return tree


def _tree_memory_mb(root: int | None = None) -> tuple[float, float]:
    """Memory of a process tree now, in MiB: summed PSS (the honest footprint) and summed RSS.

    PSS (``Pss:`` of ``/proc/<pid>/smaps_rollup``) charges each page shared between processes (the model
    a forked worker inherits, the interpreter and libraries) in equal parts to its sharers, so the sum over
    the tree counts every page once. Summed RSS counts a shared page once per process that maps it.
    """
    pss = rss = 0
    for pid in _tree_pids(root or os.getpid()):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except (OSError, ValueError, IndexError):  # ended while being read
            continue
    return pss / 1024, rss / 1024


def _peak_tree_mb(fn: Callable[[], object], every: float = 0.1) -> tuple[float, float, float]:
    """Seconds taken by ``fn``, and the peak summed PSS and peak summed RSS of this process tree meanwhile.

    ``ru_maxrss`` is one process's peak; with worker processes the job's footprint is the tree's PSS,
    sampled every ``every`` seconds (a peak shorter than that can be missed: see :data:`MEMORY_MEASURE`).
    """
    peak, stop = [0.0, 0.0], threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            pss, rss = _tree_memory_mb()
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        seconds, _ = _timed(fn)
    finally:
        stop.set()
        sampler.join()
    return seconds, peak[0], peak[1]


def _child_task(task: str, args: list[str]) -> dict[str, float]:
    if task == "score":
        model_dir, source, target, store, sample = args
        os.environ["MLFLOW_TRACKING_URI"] = store
        from pipelines.score import score

        job = partial(score, source, target, model_uri=model_dir)
        # Sampling /proc costs the scorer CPU, so only the memory figure's run pays for it.
        seconds, pss, rss = _peak_tree_mb(job) if sample == "True" else (_timed(job)[0], 0.0, 0.0)
        cpu = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "seconds": seconds,
            "pss_mb": pss,
            "rss_sum_mb": rss,
            "maxrss_mb": _peak_mb(),
            "cpu_seconds": sum(r.ru_utime + r.ru_stime for r in cpu),
        }
    if task == "naive":
        model_file, source, target = args

        def naive_job() -> None:
            model = joblib.load(model_file)
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
            proba = model.predict_proba(frame[TEXT_COLUMN].tolist())
            frame["party"] = model.classes_[proba.argmax(axis=1)]
            frame["confidence"] = proba.max(axis=1)
            frame.to_csv(target, index=False, encoding="utf-8")

        seconds, _ = _timed(naive_job)
        return {"seconds": seconds, "maxrss_mb": _peak_mb()}
    if task == "cold":
        from pipelines.registry import load_sklearn

        (model_dir,) = args
        model = load_sklearn(model_dir)
        model.predict(text_frame([ONE_CASE]))
        return {"maxrss_mb": _peak_mb()}
    raise ValueError(f"unknown bench task {task!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--no-mlflow", action="store_true", help="Do not log the run to MLflow.")
    parser.add_argument(
        "--model", help="Also time scoring with this model (models:/name@alias, models:/name/N or a model folder)."
    )
    options = parser.parse_args(argv)
    if options.child:
        print(json.dumps(_child_task(options.child[0], options.child[1:])))
        return
    from pipelines.tracking import quiet_libraries  # not at the top: the timed children would import MLflow

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    quiet_libraries()
    sizes = BenchSizes()
    with tempfile.TemporaryDirectory(prefix="liability-bench-") as tmp:
        rows = run_bench(sizes, Path(tmp), options.model)
    print_table(rows)
    OUTPUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT_FILE.write_text(markdown(rows, "make bench"), encoding="utf-8")
    log.info("table written to %s", OUTPUT_FILE)
    if not options.no_mlflow:
        log.info("logged to MLflow experiment %s, run %s", EXPERIMENT, log_run(rows, sizes, OUTPUT_FILE))


if __name__ == "__main__":
    main()
