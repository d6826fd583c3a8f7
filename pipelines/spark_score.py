"""Scoring on Apache Spark: the same registered model applied to CSV or Parquet files (or folders of them)
through ``mlflow.pyfunc.spark_udf``, for exports too large for one machine.

What it writes: every input column, then ``party``, ``party_zh``, ``model_name``, ``model_version``,
``model_run_id`` and ``score_error`` (same meanings as the single-machine scorer). The model's pyfunc
predicts labels only, so probabilities, confidence, ``needs_review`` and ``top_terms`` are not computed
here; use the local engine when reviewers need them. Output is Spark's own layout: a folder of part files
(CSV in UTF-8 without BOM, text cells neutralized against Excel formulas, or Parquet), written beside
the target and renamed onto it when complete. Chats as one row per turn need the local engine.

Imported only for ``--engine spark``; needs ``pip install .[spark]`` and Java 17+.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import deque
from functools import reduce
from pathlib import Path

import mlflow
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.cases import Columns, find_columns
from pipelines.config import CHAMPION_URI, ZH_NAMES
from pipelines.export import FORMULA_STARTS
from pipelines.job_store import log_job
from pipelines.registry import ALLOW_ENV, check_model_safe, download_model, read_mlmodel
from pipelines.score import EMPTY_TEXT, UNDECODABLE, ScoreSummary, undecodable_in
from pipelines.scoring_model import identify
from pipelines.tables import InputError, iter_table_chunks, parquet_file, sniff_encoding, table_files
from pipelines.tracking import use_store

#: Columns appended to each row, in order.
SPARK_COLUMNS = ("party", "party_zh", "model_name", "model_version", "model_run_id", "score_error")
SPARK_SUFFIXES = (".csv", ".parquet")
#: Python's name for an encoding → Java's, where they differ (Spark reads through Java charsets).
_JAVA_ENCODINGS = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "gb18030": "GB18030",
}


def spark_session(master: str) -> SparkSession:
    """A session whose Python workers run this interpreter (which has the project and pandas installed)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(master)
        .appName("liability-score")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.legacy.javaCharsets", "true")  # Spark 4 reads only UTF/ASCII CSV without it; exports are GBK
        .getOrCreate()
    )


def read_input(
    spark: SparkSession, files: list[Path], id_col: str | None, text_col: str | None
) -> tuple[DataFrame, Columns]:
    """The files as one Spark DataFrame of strings and its case id and text columns.

    Each file is read on its own, as the local engine reads it: a CSV's encoding is detected per file, and
    columns are matched by name across files (a column one file lacks is empty in its rows), never by
    position. The files must name their case id and text columns alike, since they become one table.
    """
    frames, found = [], []
    for path in files:
        frame = _read_file(spark, path)
        try:
            cols = find_columns(pd.DataFrame(columns=frame.columns), id_col=id_col, text_col=text_col, need_label=False)
        except InputError as exc:
            raise InputError(path, exc.message, exc.row, exc.column) from None
        if cols.role is not None:
            raise InputError(path, "chats as one row per turn are scored by the local engine (--engine local)")
        if found and (cols.case_id, cols.text) != (found[0].case_id, found[0].text):
            raise InputError(
                path,
                f"its case id and text columns are {cols.case_id!r}, {cols.text!r} where {files[0].name} has "
                f"{found[0].case_id!r}, {found[0].text!r}; the Spark engine writes one table, so give the files "
                "the same headers (or score them with --engine local)",
            )
        frames.append(frame)
        found.append(cols)
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames), found[0]


def _read_file(spark: SparkSession, path: Path) -> DataFrame:
    """One CSV or Parquet file as strings, its header cleaned as the local reader cleans it."""
    if path.suffix.lower() == ".parquet":
        frame = spark.read.parquet(str(path))
        return frame.select([F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns])
    encoding = sniff_encoding(path)
    frame = (
        spark.read.option("header", True)
        .option("multiLine", True)  # quoted line breaks inside chat texts
        .option("escape", '"')  # RFC 4180 doubled quotes, as pandas and Excel write them
        .option("encoding", _JAVA_ENCODINGS.get(encoding, encoding))
        .csv(str(path))
    )
    return frame.toDF(*(c.lstrip("\ufeff").strip() for c in frame.columns))


def score_spark(
    input: str | Path,
    output: str | Path,
    *,
    model_uri: str = CHAMPION_URI,
    id_col: str | None = None,
    text_col: str | None = None,
    master: str = "local[*]",
    allow_pickle: bool = False,
) -> ScoreSummary:
    """Score CSV/Parquet input on Spark into ``output`` (a folder of part files) and record the job in MLflow."""
    started = time.perf_counter()
    source, output = Path(input), Path(output)
    files = table_files(source)
    suffixes = {f.suffix.lower() for f in files}
    if len(suffixes) != 1 or not suffixes <= set(SPARK_SUFFIXES):
        raise InputError(
            source, f"the Spark engine reads CSV or Parquet, one format per job (found {sorted(suffixes)})"
        )
    if output.suffix.lower() not in SPARK_SUFFIXES:
        raise InputError(output, "the Spark engine writes .csv or .parquet (a folder of part files)")
    for path in files:  # refused here, not minutes later deep inside a Spark job
        if not path.is_file():
            raise InputError(path, "no such file or directory")
        if path.suffix.lower() == ".parquet":
            parquet_file(path).close()
        else:  # parsed through once as the local engine parses it: Spark would take a row with an unquoted
            # separator by dropping its extra cells, and an unclosed quote by making the rest of the file one cell
            deque(iter_table_chunks(path), maxlen=0)
    client = use_store()
    with tempfile.TemporaryDirectory() as tmp:
        local_dir = download_model(model_uri, Path(tmp))
        check_model_safe(local_dir, allow_pickle)
        identity = identify(model_uri, read_mlmodel(local_dir), client)
        spark = spark_session(master)
        frame, cols = read_input(spark, files, id_col, text_col)
        # The model file was checked above, so the executors may deserialize it.
        predict = mlflow.pyfunc.spark_udf(
            spark, str(local_dir), result_type="string", env_manager="local", extra_env={ALLOW_ENV: "true"}
        )
        scored = _with_scores(frame, cols.text, predict, identity.name, identity.version, identity.run_id).cache()
        _write_atomically(scored, output)
        counts = scored.groupBy("party", "score_error").count().collect()
        scored.unpersist()
    summary = ScoreSummary(str(source), [str(output)], identity, seconds=time.perf_counter() - started)
    for row in counts:
        summary.rows_read += row["count"]
        if row["score_error"] is None:
            summary.rows_scored += row["count"]
            summary.parties[row["party"]] += row["count"]
        else:
            summary.failures[row["score_error"]] += row["count"]
    summary.run_id = log_job(client, summary, source)
    return summary


def _with_scores(frame: DataFrame, text_col: str, predict, name: str, version: str, run_id: str) -> DataFrame:
    """Input columns (renamed ``<name>_input`` on a clash), then :data:`SPARK_COLUMNS`."""
    clashing = [c for c in frame.columns if c in SPARK_COLUMNS]
    frame = frame.toDF(*(f"{c}_input" if c in clashing else c for c in frame.columns))
    text = F.col(f"`{text_col}`")
    # The first reason that holds, in the local engine's order: a damaged cell besides the text, then the text.
    reasons = [(F.instr(F.col(f"`{c}`"), "\ufffd") > 0, undecodable_in(c)) for c in frame.columns if c != text_col]
    reasons += [(F.instr(text, "\ufffd") > 0, UNDECODABLE), (text.isNull() | (F.trim(text) == ""), EMPTY_TEXT)]
    error = F.when(*reasons[0])
    for condition, reason in reasons[1:]:
        error = error.when(condition, reason)
    zh = F.create_map(*(F.lit(v) for pair in ZH_NAMES.items() for v in pair))
    return (
        frame.withColumn("score_error", error)
        .withColumn("party", F.when(F.col("score_error").isNull(), predict(F.struct(text.alias("text")))))
        .withColumn("party_zh", F.coalesce(zh[F.col("party")], F.col("party")))
        .withColumn("model_name", F.lit(name))
        .withColumn("model_version", F.lit(version))
        .withColumn("model_run_id", F.lit(run_id))
        .select(*(F.col(f"`{c}`") for c in frame.columns), *SPARK_COLUMNS)
    )


def _neutralized(frame: DataFrame) -> DataFrame:
    """String cells that Excel would run as formulas, prefixed with ``'`` (as :func:`pipelines.export.neutralize`)."""
    pattern = "^[" + "".join("\\" + c if c in "-\\]^" else c for c in FORMULA_STARTS) + "]"
    return frame.select(
        *(
            F.when(F.col(f"`{c}`").rlike(pattern), F.concat(F.lit("'"), F.col(f"`{c}`")))
            .otherwise(F.col(f"`{c}`"))
            .alias(c)
            if dtype == "string"
            else F.col(f"`{c}`")
            for c, dtype in frame.dtypes
        )
    )


def _write_atomically(frame: DataFrame, output: Path) -> None:
    """Write into a hidden folder beside ``output``, then swap it in; a failed job leaves no partial result."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.parent / f".{output.name}.{uuid.uuid4().hex}.tmp"
    try:
        if output.suffix.lower() == ".csv":
            (
                _neutralized(frame)
                .write.option("header", True)
                .option("escape", '"')
                # Spark's CSV writer trims cells by default: input columns must come out as they went in.
                .option("ignoreLeadingWhiteSpace", False)
                .option("ignoreTrailingWhiteSpace", False)
                .csv(str(tmp))
            )
        else:
            frame.write.parquet(str(tmp))
        if output.is_dir():
            shutil.rmtree(output)
        elif output.exists():
            output.unlink()
        os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
