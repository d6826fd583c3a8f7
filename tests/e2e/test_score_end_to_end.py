"""Train a small model into a temporary store, then score exports of every kind with it, on one machine
and on Spark."""

import gc
import json
import os
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipelines import job_store
from pipelines import score as score_module
from pipelines.cli import app
from pipelines.config import DEMO_FILE, MODEL_NAME, SCORING_EXPERIMENT
from pipelines.score import score, score_columns
from pipelines.tables import InputError
from pipelines.train import TrainResult, train

pytestmark = pytest.mark.slow

LOGISTICS = "快递员把包裹弄丢了，物流信息三天没更新，快递公司也不给说法"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The ``mlflow_store`` fixture at module scope, so that the model is trained once for all tests here."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def trained(store: str) -> TrainResult:
    return train(sample=600)


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    """Real-looking rows plus the awkward ones: empty text, a formula, a logistics complaint."""
    rows = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).sample(40, random_state=1)
    rows = rows.drop(columns="label").rename(columns={"case_id": "工单号", "text": "投诉内容"})
    extra = pd.DataFrame(
        {"工单号": ["E1", "E2", "E3"], "投诉内容": [LOGISTICS, "", "-快递丢件，要求赔偿"], "channel": ["京东"] * 3}
    )
    return pd.concat([rows, extra], ignore_index=True).fillna("")


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.parametrize("kind", ["gb18030.csv", "xlsx", "jsonl"])
def test_scores_every_row_of_every_format(trained: TrainResult, export: pd.DataFrame, tmp_path: Path, kind: str):
    path = tmp_path / f"export.{kind.split('.')[-1]}"
    if kind == "gb18030.csv":
        export.to_csv(path, index=False, encoding="gb18030")  # GBK's superset: demo texts hold emoji
    elif kind == "xlsx":
        export.to_excel(path, index=False)
    else:
        export.to_json(path, orient="records", lines=True, force_ascii=False)

    summary = score(path, chunk_rows=16)
    out_path = Path(summary.outputs[0])
    assert out_path.name == f"export.scored{path.suffix}"
    out = pd.read_json(out_path, lines=True, dtype=False) if kind == "jsonl" else _read(out_path)

    assert len(out) == len(export) == summary.rows_read
    assert list(out.columns) == list(export.columns) + score_columns(trained_classes(trained))
    assert out["工单号"].astype(str).tolist() == export["工单号"].tolist(), "rows keep their order"
    by_id = out.set_index(out["工单号"].astype(str))
    assert by_id.loc["E1", "party"] == "logistics" and by_id.loc["E1", "party_zh"] == "物流"
    assert by_id.loc["E2", "score_error"] == "empty text"
    assert summary.rows_scored == len(export) - 1 and summary.failures == {"empty text": 1}
    assert str(by_id.loc["E1", "model_version"]) == trained.version
    if kind == "jsonl":
        assert out["needs_review"].dtype == bool
        assert by_id.loc["E3", "投诉内容"].startswith("-"), "JSON is not opened by Excel: values unchanged"
    else:
        assert set(out["needs_review"]) <= {"True", "False"}
        assert by_id.loc["E3", "投诉内容"].startswith("'-"), "formulas are neutralized for Excel"


def trained_classes(trained: TrainResult) -> list[str]:
    run = MlflowClient().get_run(trained.run_id)
    return run.data.params["data.classes"].split(",")


def test_chat_turns_folder_and_mlflow_run(trained: TrainResult, tmp_path: Path):
    folder = tmp_path / "exports"
    folder.mkdir()
    turns = pd.DataFrame(
        {
            "会话ID": ["s1", "s1", "s1", "s2", "s2"],
            "轮次": ["1", "2", "3", "1", "2"],
            "角色": ["买家", "客服", "买家", "买家", "客服"],
            "内容": ["快递三天没动了，包裹是不是丢了", "亲，已为您联系快递公司", "快递员说找不到包裹了", "", ""],
        }
    )
    turns.to_csv(folder / "chats.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame({"id": ["1"], "text": [LOGISTICS]}).to_parquet(folder / "complaints.parquet")

    summary = score(folder, chunk_rows=2)
    assert [Path(p).name for p in summary.outputs] == ["chats.scored.csv", "complaints.scored.parquet"]
    chats = _read(Path(summary.outputs[0]))
    assert len(chats) == 5 and chats["party"].iloc[:3].nunique() == 1, "every turn carries its chat's party"
    assert chats["party"].iat[0] == "logistics"
    assert chats["score_error"].iloc[3:].tolist() == ["empty text"] * 2
    assert pd.read_parquet(summary.outputs[1])["party"].tolist() == ["logistics"]

    run = MlflowClient().get_run(summary.run_id)
    experiment = MlflowClient().get_experiment(run.info.experiment_id)
    assert experiment.name == SCORING_EXPERIMENT
    metrics = run.data.metrics
    assert metrics["rows_read"] == 6 and metrics["rows_scored"] == 4 and metrics["rows_failed"] == 2
    assert metrics["share_logistics"] == pytest.approx(1.0)
    assert {"review_share", "unseen_token_share"} <= set(metrics)
    assert run.data.params["input"] == "exports" and run.data.params["model_version"] == trained.version
    assert run.data.params["model_uri"] == f"models:/{MODEL_NAME}@champion", "what was asked, beside what it was"
    artifact = MlflowClient().download_artifacts(summary.run_id, "summary.json", str(tmp_path))
    recorded = json.loads(Path(artifact).read_text(encoding="utf-8"))
    assert recorded["rows_read"] == 6
    assert "快递" not in json.dumps(recorded, ensure_ascii=False), "no input text is logged"


def test_parallel_scoring_writes_what_serial_scoring_writes(
    trained: TrainResult, export: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, encoding="utf-8")
    monkeypatch.setattr(score_module, "TASK_CASES", 5)  # several tasks per chunk, several chunks in flight
    serial = score(path, tmp_path / "serial.csv", chunk_rows=12, workers=1)
    parallel = score(path, tmp_path / "parallel.csv", chunk_rows=12, workers=2)
    assert (tmp_path / "parallel.csv").read_bytes() == (tmp_path / "serial.csv").read_bytes()
    assert parallel.metrics() | {"rows_per_second": 0} == serial.metrics() | {"rows_per_second": 0}
    assert serial.word_tokens > 0 and parallel.word_tokens == serial.word_tokens
    assert gc.get_freeze_count() == 0, "objects frozen for the workers are back in the collector's reach"


def test_a_model_folder_scores_as_its_registered_version(trained: TrainResult, export: pd.DataFrame, tmp_path: Path):
    # A folder is loaded and prepared (explanation and lookup indexes) before the workers fork; a registry
    # model's workers build those themselves: the scores must not depend on which.
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, encoding="utf-8")
    uri = f"models:/{MODEL_NAME}/{trained.version}"
    folder = mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "model"))
    registered = score(path, tmp_path / "registered.csv", model_uri=uri, workers=2, chunk_rows=12)
    local = score(path, tmp_path / "folder.csv", model_uri=folder, workers=2, chunk_rows=12)
    assert (registered.model.version, local.model.version) == (trained.version, "")
    assert local.model.name == folder and local.model.run_id == registered.model.run_id == trained.run_id
    names = ["model_name", "model_version"]
    assert (
        _read(tmp_path / "folder.csv")
        .drop(columns=names)
        .equals(_read(tmp_path / "registered.csv").drop(columns=names))
    )


def test_without_fork_the_store_calls_run_in_the_scorer(
    trained: TrainResult, export: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, encoding="utf-8")
    helper = score(path, tmp_path / "helper.csv", workers=1)
    monkeypatch.setattr(job_store, "can_fork", lambda: False)
    here = score(path, tmp_path / "here.csv", workers=1)
    assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "helper.csv").read_bytes()
    assert here.model == helper.model and here.model.version == trained.version
    assert MlflowClient().get_run(here.run_id).data.metrics["rows_read"] == len(export)
    assert job_store._CLIENT is None, "the next job opens the store it is pointed at then, not this one"


def test_cli_scores_and_reports_whole_file_problems(trained: TrainResult, tmp_path: Path):
    path = tmp_path / "in.csv"
    pd.DataFrame({"case_id": ["1", "2"], "text": [LOGISTICS, "我自己拍错尺码了"]}).to_csv(path, index=False)
    runner = CliRunner()
    done = runner.invoke(app, ["score", str(path), str(tmp_path / "out.parquet")])
    assert done.exit_code == 0, done.output
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 2

    missing = runner.invoke(app, ["score", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output
    (tmp_path / "bad.csv").write_text("编号,备注\n1,x\n", encoding="utf-8")
    no_text = runner.invoke(app, ["score", str(tmp_path / "bad.csv")])
    assert no_text.exit_code == 2 and "missing column(s) text" in no_text.output
    assert not (tmp_path / "bad.scored.csv").exists()
    wrong_model = runner.invoke(app, ["score", str(path), "--model", "models:/liability-classifier@nobody"])
    assert wrong_model.exit_code == 2


@pytest.mark.spark
def test_spark_engine_predicts_what_the_local_scorer_predicts(
    trained: TrainResult, export: pd.DataFrame, tmp_path: Path
):
    """A folder whose files differ in encoding and column order, as exports do: Spark must match columns by
    name and detect each file's encoding, keep cells as they were (its CSV writer trims them by default),
    and mark what the local engine marks."""
    pytest.importorskip("pyspark")
    from pipelines.spark_score import score_spark

    folder = tmp_path / "exports"
    folder.mkdir()
    export.iloc[:30].to_csv(folder / "a.csv", index=False, encoding="gb18030")  # GBK's superset: emoji
    damaged = pd.DataFrame({"工单号": ["R1"], "投诉内容": ["丢件"], "备注": ["DAMAGED"]})
    rest = pd.concat([export.iloc[30:], damaged], ignore_index=True).fillna("")
    rest.loc[0, "投诉内容"] = "  快递丢件，前后有空格  "
    csv = rest[list(reversed(rest.columns))].to_csv(index=False).encode()
    (folder / "b.csv").write_bytes(csv.replace(b"DAMAGED", b"\xff"))  # one byte UTF-8 cannot decode
    outputs = score(folder, tmp_path / "local").outputs
    local = pd.concat([_read(Path(o)) for o in outputs], ignore_index=True)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.csv").write_text("case_id,text\n1,快递丢件\n", encoding="utf-8")
    (mixed / "b.csv").write_text("id,投诉内容\n2,商家发错货\n", encoding="utf-8")
    try:
        summary = score_spark(folder, tmp_path / "spark.csv", master="local[2]")
        with pytest.raises(InputError, match=r"b\.csv: its case id and text columns are 'id', '投诉内容'"):
            score_spark(mixed, tmp_path / "mixed.csv", master="local[2]")
        (mixed / "b.csv").write_text('case_id,text\n2,"商家发错货\n3,快递丢件\n', encoding="utf-8")
        with pytest.raises(InputError, match=r"b\.csv, row 2: a quote"):  # Spark alone would make row 3 a cell
            score_spark(mixed, tmp_path / "mixed.csv", master="local[2]")
    finally:
        from pyspark.sql import SparkSession

        if (session := SparkSession.getActiveSession()) is not None:
            session.stop()
    parts = sorted((tmp_path / "spark.csv").glob("part-*.csv"))
    spark = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts], ignore_index=True)

    assert summary.rows_read == len(export) + 1 == len(local)
    assert summary.failures == {"empty text": 1, "undecodable bytes in column '备注'": 1}
    merged = local.merge(spark, on="工单号", suffixes=("_local", "_spark"), validate="one_to_one")
    assert len(merged) == len(local)
    assert (merged["party_local"] == merged["party_spark"]).all()
    assert (merged["score_error_local"] == merged["score_error_spark"]).all()
    assert (merged["投诉内容_local"] == merged["投诉内容_spark"]).all(), "cells come out as they went in"
    assert merged.set_index("工单号").loc["E3", "投诉内容_spark"].startswith("'-")
    assert os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION") is None, "the driver's environment is untouched"


@pytest.mark.spark
def test_spark_engine_takes_a_pickle_model_only_when_allowed(trained: TrainResult, tmp_path: Path):
    pytest.importorskip("pyspark")
    from mlflow.sklearn import save_model

    from pipelines.registry import UnsafeModelError, load_sklearn
    from pipelines.spark_score import score_spark

    model = tmp_path / "pickled"
    save_model(load_sklearn(trained.model_uri), str(model), serialization_format="pickle")
    export = tmp_path / "in.csv"
    export.write_text(f"case_id,text\n1,{LOGISTICS}\n", encoding="utf-8")
    with pytest.raises(UnsafeModelError, match="--allow-pickle"):
        score_spark(export, tmp_path / "refused.csv", model_uri=str(model), master="local[1]")
    try:
        summary = score_spark(export, tmp_path / "out.csv", model_uri=str(model), master="local[1]", allow_pickle=True)
    finally:
        from pyspark.sql import SparkSession

        if (session := SparkSession.getActiveSession()) is not None:
            session.stop()
    assert summary.rows_scored == 1 and summary.parties == {"logistics": 1}
