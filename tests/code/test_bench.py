"""The benchmark runs end to end at tiny sizes and fills every row and column (no timing is asserted)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from pipelines.bench import (
    COLUMNS,
    EXPERIMENT,
    BenchSizes,
    bench_other_model,
    local_model,
    log_run,
    markdown,
    run_bench,
    table_cells,
    text_pool,
    write_cases,
)

TINY = BenchSizes(
    train=(300, 600), score=(200, 400), memory_rows=500, complaint_rows=300, token_texts=200, ratio_repeats=2
)

EXPECTED = {
    "tokenize MB/s, jieba.lcut (naive)",
    "tokenize MB/s, rjieba, 1 process",
    "tokens identical, rjieba vs jieba backend",
    "train seconds (clean + tokenize + fit)",
    "train time growth exponent (1 = linear)",
    "model size on disk (MLflow folder, skops)",
    "score rows/s, naive jieba.lcut pipeline",
    "score rows/s, liability score",
    "peak memory scoring (PSS, all processes)",
    "peak memory scoring (RSS summed, shared pages per process)",
    "cold start: load model + score one case",
}


@pytest.mark.slow
def test_bench_fills_every_row_and_logs_a_run(tmp_path: Path, mlflow_store: str) -> None:
    rows = run_bench(TINY, tmp_path)

    measures = {r.measure for r in rows}
    assert measures >= EXPECTED
    assert any(m.startswith("tokenize MB/s, rjieba,") and m.endswith("processes") for m in measures)
    sizes = {r.size for r in rows if r.measure == "score rows/s, liability score"}
    assert {s.split(" (")[0] for s in sizes} == {
        "200 cases",
        "400 cases",
        "400 generated cases",
        "300 complaint-length",
        "500 cases",
    }
    assert all(re.fullmatch(r".+ \([\d,]+ distinct(, best of 2)?\)", s) for s in sizes), sizes
    assert sum(s.endswith("best of 2)") for s in sizes) == 1, "the ratio's file is timed twice on each side"
    for row in rows:
        assert math.isfinite(row.value), row
        if row.measure != "train time growth exponent (1 = linear)":  # tiny fits may not grow at all
            assert row.value > 0, row
        assert row.baseline is None or row.baseline > 0, row
        assert len(table_cells(row)) == len(COLUMNS)
    targets = [r for r in rows if r.target]
    assert len(targets) >= 6 and all(r.met is not None for r in targets)
    assert next(r for r in rows if r.measure.startswith("tokens identical")).value == 1.0

    table = tmp_path / "bench.md"
    table.write_text(markdown(rows, "pytest"), encoding="utf-8")
    assert table.read_text(encoding="utf-8").count("\n| ") == len(rows) + 1

    run = mlflow.get_run(log_run(rows, TINY, table))
    assert mlflow.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert {r.key for r in rows} <= set(run.data.metrics)
    assert run.data.params["cores"]


@pytest.mark.slow
def test_another_model_from_the_registry_is_timed_against_the_bench_model(tmp_path: Path, trained_store: str) -> None:
    uri = "models:/liability-classifier/1"
    texts = text_pool(tmp_path)  # no real pool here: the demo texts
    files = [
        write_cases(texts, 200, tmp_path / "cases.csv", 1, "200 cases"),
        write_cases(texts, 100, tmp_path / "complaints.csv", 2, "100 complaint-length", "complaint"),
    ]
    bench_model = local_model(uri, tmp_path / "bench")  # stands in for the bench's own model

    rows = bench_other_model(uri, bench_model, files, tmp_path)

    assert [(r.measure, r.size.split(" (")[0]) for r in rows] == [
        (f"score rows/s, {uri}", "200 cases"),
        (f"score rows/s, {uri}", "100 complaint-length"),
        (f"cold start, {uri}", "1 case"),
    ]
    assert all(r.value > 0 for r in rows) and all(r.baseline > 0 for r in rows[:2])
    assert [r.met is not None for r in rows] == [False, True, True], "the targets: complaint rows/s, cold start"


def test_peak_memory_of_a_child_is_its_own_not_its_spawners() -> None:
    # Linux keeps the spawning process's peak in a child's ru_maxrss across exec; the bench must not report it.
    ballast = bytearray(800 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touch every page, so it is resident
    child = subprocess.run(
        [sys.executable, "-c", "from pipelines.bench import _peak_mb; print(_peak_mb())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(child.stdout.strip().splitlines()[-1]) < 600, "a child reported its spawner's 800 MB"
    del ballast
