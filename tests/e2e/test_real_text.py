"""Real-text features end to end on a miniature real-data folder built from demo cases: evaluate-real's
numbers recomputed independently from the predictions it saved, few-label training with the LF table
logged, and the label audit."""

import json
import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import f1_score, precision_recall_fscore_support
from typer.testing import CliRunner

from pipelines import realeval
from pipelines.audit import AUDIT_COLUMNS
from pipelines.cli import app
from pipelines.config import DEMO_FILE, PARAMS_FILE, PARTY_CODES
from pipelines.intervals import macro_f1_interval, party_f1_intervals
from pipelines.realdata import GOLD_FILE, load_unlabeled
from pipelines.train import train
from pipelines.weak import LF_NAMES

pytestmark = pytest.mark.slow


def party_macro_f1_of(y_true: pd.Series, y_pred: pd.Series) -> float:
    """Macro-F1 over the four parties, written here again so the test does not trust the code it checks."""
    return f1_score(y_true, y_pred, labels=list(PARTY_CODES), average="macro", zero_division=0)


@pytest.fixture(scope="module")
def mini_real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gold/dev.csv (100 demo cases) and real/ (reviews, per-turn chats, summaries, complaints) like ../shared/data."""
    root = tmp_path_factory.mktemp("real")
    demo = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).sample(frac=1.0, random_state=1)
    gold = (
        demo.groupby("label")
        .head(20)
        .assign(
            agreement=lambda d: np.where(d.index % 7 == 0, "adjudicated", "both"),
            secondary=lambda d: np.where((d.index % 5 == 0) & (d["label"] == "merchant"), "logistics", ""),
        )
    )
    (root / "gold").mkdir()
    gold[["case_id", "genre", "text", "label", "secondary", "agreement"]].to_csv(root / GOLD_FILE, index=False)
    pool = demo.drop(gold.index).iloc[:300]
    real = root / "real"
    real.mkdir()
    pool[["case_id", "text"]].assign(source="demo", category="x").to_csv(real / "reviews.csv", index=False)
    turns = [
        ("chat1", 0, "buyer", "快递三天了还没到"),
        ("chat1", 1, "agent", "已为您催促配送"),
        ("chat2", 0, "buyer", "请问发票怎么开"),
    ]
    pd.DataFrame(turns, columns=["case_id", "turn", "role", "text"]).to_csv(real / "chats.csv", index=False)
    pd.DataFrame({"case_id": ["s1"], "text": ["用户询问订单什么时候发货。"]}).to_csv(
        real / "summaries.csv", index=False
    )
    record = {"case_id": "h1", "title": "质量问题", "text": "收到就坏了", "company": "x", "issue": "x", "appeal": "x"}
    (real / "complaints.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return root


def test_unlabeled_pool_renders_chats_with_role_marks(mini_real: Path):
    texts = load_unlabeled([mini_real]).texts
    assert "买家：快递三天了还没到\n客服：已为您催促配送" in texts
    assert "质量问题\n收到就坏了" in texts
    assert len(texts) == len(set(texts)) == 300 + 2 + 1 + 1


def test_evaluate_real_numbers_recomputed_from_saved_predictions(
    mini_real: Path, mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    small_demo = tmp_path / "demo.csv"
    pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).head(600).to_csv(small_demo, index=False)
    monkeypatch.setattr(realeval, "DEMO_FILE", small_demo)
    result = realeval.evaluate_real(mini_real, seeds=(0, 1), shares=(0.5,))

    client = MlflowClient(mlflow_store)
    metrics = client.get_run(result.run_id).data.metrics
    path = mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path="cv", dst_path=str(tmp_path))
    saved = pd.read_csv(Path(path) / realeval.PREDICTIONS_FILE, dtype=str, keep_default_na=False)
    assert len(saved) == 2 * 100 and set(realeval.METHODS) <= set(saved.columns)
    for method in realeval.METHODS:
        per_seed = [party_macro_f1_of(g["label"], g[method]) for _, g in saved.groupby("seed")]
        assert metrics[f"{method}.macro_f1"] == pytest.approx(np.mean(per_seed))
        assert metrics[f"{method}.macro_f1_seed0"] == pytest.approx(per_seed[0])
    # The intervals, recomputed from the saved predictions: cases aligned across seeds by id, in id order.
    wide = {
        column: saved.pivot(index="case_id", columns="seed", values=column) for column in ("label", "model", "tfidf")
    }
    truth = wide["label"]["0"].to_numpy(dtype=object)
    model, tfidf = (wide[column].to_numpy(dtype=object).T for column in ("model", "tfidf"))
    low, high = macro_f1_interval(truth, model)
    assert (metrics["model.macro_f1_ci_low"], metrics["model.macro_f1_ci_high"]) == pytest.approx((low, high))
    assert low <= metrics["model.macro_f1"] <= high
    parties = party_f1_intervals(truth, model)
    assert (metrics["model.f1_platform_ci_low"], metrics["model.f1_platform_ci_high"]) == pytest.approx(
        parties["platform"]
    )
    gain = macro_f1_interval(truth, model, baseline=tfidf)
    assert (metrics["model_minus_tfidf_ci_low"], metrics["model_minus_tfidf_ci_high"]) == pytest.approx(gain)
    seed0 = saved[saved["seed"] == "0"]
    seed1 = saved[saved["seed"] == "1"]
    for party in PARTY_CODES:
        p = [
            precision_recall_fscore_support(s["label"], s["model"], labels=[party], zero_division=0)
            for s in (seed0, seed1)
        ]
        assert metrics[f"model.precision_{party}"] == pytest.approx(np.mean([x[0][0] for x in p]))
        assert metrics[f"model.recall_{party}"] == pytest.approx(np.mean([x[1][0] for x in p]))
    for genre in seed0["genre"].unique():
        by_seed = [
            party_macro_f1_of(s.loc[s["genre"] == genre, "label"], s.loc[s["genre"] == genre, "tfidf"])
            for s in (seed0, seed1)
        ]
        assert metrics[f"tfidf.genre_{genre}_macro_f1"] == pytest.approx(np.mean(by_seed)), genre
    agreed = [
        (s.loc[s["agreement"] == "both", "label"] == s.loc[s["agreement"] == "both", "model"]).mean()
        for s in (seed0, seed1)
    ]
    assert metrics["model.accuracy_both"] == pytest.approx(np.mean(agreed))
    for method in ("model", "tfidf"):  # the learning curve's 50% point, from the same saved predictions
        column = f"{method}_labeled50"
        per_seed = [party_macro_f1_of(g["label"], g[column]) for _, g in saved.groupby("seed")]
        assert metrics[f"{column}.macro_f1"] == pytest.approx(np.mean(per_seed))
    half = saved.pivot(index="case_id", columns="seed", values="model_labeled50").to_numpy(dtype=object).T
    assert metrics["model_minus_model_labeled50"] == pytest.approx(
        metrics["model.macro_f1"] - metrics["model_labeled50.macro_f1"]
    )
    bought = (metrics["model_minus_model_labeled50_ci_low"], metrics["model_minus_model_labeled50_ci_high"])
    assert bought == pytest.approx(macro_f1_interval(truth, model, baseline=half))
    curve = pd.read_csv(Path(path) / "learning_curve.csv")
    assert curve["share"].tolist() == [0.5, 1.0] and curve["labeled_cases"].tolist() == [40, 80]
    assert curve["model"].tolist() == pytest.approx(
        [metrics["model_labeled50.macro_f1"], metrics["model.macro_f1"]], abs=1e-4
    )
    bands = curve[["model_ci_low", "model_ci_high"]].to_numpy()
    assert bands == pytest.approx(np.array([macro_f1_interval(truth, half), macro_f1_interval(truth, model)]), abs=1e-4)
    artifacts = {a.path for a in client.list_artifacts(result.run_id, "cv")}
    assert "cv/confusion_model.png" in artifacts and "cv/summary.csv" in artifacts
    assert "cv/learning_curve.png" in artifacts
    mlflow.set_tracking_uri(None)


def test_train_with_unlabeled_logs_the_lf_table(mini_real: Path, mlflow_store: str, tmp_path: Path):
    params = tmp_path / "params.toml"  # no demo rows: the full demo corpus would only slow the test down
    params.write_text(re.sub(r"demo_weight = [\d.]+", "demo_weight = 0.0", PARAMS_FILE.read_text(encoding="utf-8")))
    result = train(mini_real / GOLD_FILE, params_file=params, unlabeled=(mini_real / "real",))
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert int(run.data.params["fewlabel.unlabeled_texts"]) == 304
    assert "Few-label training: 304 unlabeled texts read" in run.data.tags["mlflow.note.content"]
    card = client.get_model_version("liability-classifier", result.version).description
    assert "Few-label training: 304 unlabeled texts read" in card and "weak-labeled by the labeling functions" in card
    path = mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path="weak", dst_path=str(tmp_path))
    table = json.loads((Path(path) / "labeling_functions.json").read_text(encoding="utf-8"))
    assert [row[0] for row in table["data"]] == list(LF_NAMES)
    assert {"coverage", "conflict_rate", "accuracy"} <= set(table["columns"])
    extra = json.loads((Path(path) / "extra_rows.json").read_text(encoding="utf-8"))
    assert set(extra) == {"weak", "self", "teacher", "secondary"}  # the pool has a chat and a summary
    assert set(extra["secondary"]) == {"logistics"}  # read from the gold file's secondary column
    again = train(mini_real / GOLD_FILE, params_file=params, unlabeled=(mini_real / "real",))
    description = client.get_run(again.run_id).data.tags["mlflow.note.content"]
    assert f"Same params and data as champion v{result.version}." in description, description
    mlflow.set_tracking_uri(None)


def test_audit_puts_a_flipped_label_first(mini_real: Path, tmp_path: Path):
    """Through the command, on an export as analysts keep it: GBK, Chinese labels, a text header that needs
    --text-col (the options of ``train`` apply)."""
    cases = pd.read_csv(mini_real / GOLD_FILE, dtype=str, keep_default_na=False)
    victim = cases.index[cases["label"] == "logistics"][0]
    cases.loc[victim, "label"] = "consumer"
    zh = {"merchant": "商家", "platform": "平台", "consumer": "消费者", "logistics": "物流", "none": "无"}
    export = cases.assign(label=cases["label"].map(zh)).rename(columns={"text": "诉求描述", "label": "责任方"})
    export.to_csv(tmp_path / "labeled.csv", index=False, encoding="gbk", errors="replace")
    out = tmp_path / "audit.csv"
    args = ["audit-labels", "--data", str(tmp_path / "labeled.csv"), "--text-col", "诉求描述", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doubted = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert tuple(doubted.columns) == AUDIT_COLUMNS
    assert doubted["doubt"].astype(float).is_monotonic_decreasing
    first = doubted.set_index("case_id")
    assert cases.loc[victim, "case_id"] in set(doubted["case_id"].head(10))
    assert first.loc[cases.loc[victim, "case_id"], ["label", "label_zh"]].tolist() == ["consumer", "消费者"]
