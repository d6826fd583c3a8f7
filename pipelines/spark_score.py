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
from pathlib import Path

import mlflow
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.cases import find_columns
from pipelines.config import CHAMPION_URI, ZH_NAMES
from pipelines.export import FORMULA_STARTS
from pipelines.job_store import log_job
from pipelines.registry import ALLOW_ENV, check_model_safe, download_model, read_mlmodel
from pipelines.score import EMPTY_TEXT, UNDECODABLE, ScoreSummary
from pipelines.scoring_model import identify
from pipelines.tables import InputError, sniff_encoding, table_files
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


def read_input(spark: SparkSession, files: list[Path]) -> DataFrame:
    """The files as one Spark DataFrame of strings; CSV encoding detected on the first file, as the local engine does."""
    suffix = files[0].suffix.lower()
    if suffix == ".parquet":
        frame = spark.read.parquet(*map(str, files))
        return frame.select([F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns])
    encoding = sniff_encoding(files[0])
    frame = (
        spark.read.option("header", True)
        .option("multiLine", True)  # quoted line breaks inside chat texts
        .option("escape", '"')  # RFC 4180 doubled quotes, as pandas and Excel write them
        .option("encoding", _JAVA_ENCODINGS.get(encoding, encoding))
        .csv(list(map(str, files)))
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
    client = use_store()
    with tempfile.TemporaryDirectory() as tmp:
        local_dir = download_model(model_uri, Path(tmp))
        check_model_safe(local_dir)
        identity = identify(model_uri, read_mlmodel(local_dir), client)
        spark = spark_session(master)
        frame = read_input(spark, files)
        cols = find_columns(pd.DataFrame(columns=frame.columns), id_col=id_col, text_col=text_col, need_label=False)
        if cols.role is not None:
            raise InputError(source, "chats as one row per turn are scored by the local engine (--engine local)")
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
    error = F.when(F.instr(text, "\ufffd") > 0, UNDECODABLE).when(text.isNull() | (F.trim(text) == ""), EMPTY_TEXT)
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
            _neutralized(frame).write.option("header", True).option("escape", '"').csv(str(tmp))
        else:
            frame.write.parquet(str(tmp))
        if output.is_dir():
            shutil.rmtree(output)
        elif output.exists():
            output.unlink()
        os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
