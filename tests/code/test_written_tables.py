"""Every CSV the product writes goes through formula neutralization, and killed writers' files are cleaned."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.audit import AUDIT_COLUMNS, write_audit
from pipelines.config import PACKAGE_DIR
from pipelines.export import atomic_table, write_csv

#: Writers allowed to call pandas directly: the export module itself, the benchmark's timing inputs and the
#: demo-corpus generator (synthetic texts, no formula starts; checked by tests/data/test_demo.py).
DIRECT_WRITERS = {"export.py", "bench.py", "demo.py"}
FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "普通文本"]


def test_no_module_writes_csv_or_xlsx_around_neutralization():
    writes = re.compile(r"\.to_(csv|excel)\(")
    offenders = [
        p.name for p in PACKAGE_DIR.glob("*.py") if p.name not in DIRECT_WRITERS and writes.search(p.read_text())
    ]
    assert offenders == []


def test_write_csv_neutralizes_every_formula_start(tmp_path: Path):
    path = write_csv(pd.DataFrame({"text": FORMULAS, "n": range(len(FORMULAS))}), tmp_path / "a.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["text"].tolist() == [f"'{t}" for t in FORMULAS[:-1]] + ["普通文本"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "BOM, so Excel shows the Chinese text"


def test_audit_table_is_neutralized(tmp_path: Path):
    doubted = pd.DataFrame({c: ["=1+1"] for c in AUDIT_COLUMNS})
    back = pd.read_csv(write_audit(doubted, tmp_path / "audit.csv"), dtype=str, encoding="utf-8-sig")
    assert (back.iloc[0] == "'=1+1").all()


def test_audit_writes_by_extension_and_refuses_an_unwritable_output_before_fitting(tmp_path: Path, monkeypatch):
    import pipelines.train as train_module
    from pipelines.cli import app

    labeled = tmp_path / "labeled.csv"
    labeled.write_text(
        "case_id,text,label\n" + "".join(f"l{i},快递{i}天没到,物流\nm{i},发错颜色{i},商家\n" for i in range(6)),
        encoding="utf-8",
    )
    (tmp_path / "folder").mkdir()
    audit = ["audit-labels", "--data", str(labeled), "--out"]
    with monkeypatch.context() as patch:
        patch.setattr(train_module, "build_pipeline", lambda params: pytest.fail("fitting started"))
        for out, message in (
            ("folder", "is a folder"),
            ("a.xls", "cannot write '.xls'"),
            ("labeled.csv/a.csv", "cannot create the output"),
        ):
            result = CliRunner().invoke(app, [*audit, str(tmp_path / out)])
            assert result.exit_code == 2 and message in result.output, result.output
    result = CliRunner().invoke(app, [*audit, str(tmp_path / "audit.xlsx")])
    assert result.exit_code == 0, result.output
    assert list(pd.read_excel(tmp_path / "audit.xlsx").columns) == list(AUDIT_COLUMNS)


def test_temporary_file_of_a_dead_writer_is_removed_a_live_ones_kept(tmp_path: Path):
    out = tmp_path / "r.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".r.csv.{dead.stdout.strip()}.abc.tmp"
    live = tmp_path / f".r.csv.{os.getpid()}.abc.tmp"
    stale.write_text("half")
    live.write_text("half")
    with atomic_table(out) as writer:
        writer.write(pd.DataFrame({"a": ["1"]}))
    assert not stale.exists() and live.exists() and out.exists()


def test_cli_refuses_a_pickle_model_without_allow_pickle(tmp_path: Path, mlflow_store: str):
    from mlflow.sklearn import save_model
    from sklearn.dummy import DummyClassifier
    from typer.testing import CliRunner

    from pipelines.cli import app

    model = tmp_path / "pickled"
    fitted = DummyClassifier().fit(pd.DataFrame({"text": ["a", "b"]}).assign(x=[0, 1])[["x"]], ["none", "merchant"])
    save_model(fitted, str(model), serialization_format="pickle", metadata={"review_threshold": 0.5})
    export = write_csv(pd.DataFrame({"case_id": ["1"], "text": ["快递丢了"]}), tmp_path / "in.csv")
    result = CliRunner().invoke(app, ["score", str(export), str(tmp_path / "out.csv"), "--model", str(model)])
    assert result.exit_code == 2, result.output
    assert "pickle" in result.output and "--allow-pickle" in result.output
    assert not (tmp_path / "out.csv").exists()
