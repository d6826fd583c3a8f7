"""The labeled export's column options reach the unlabeled exports, in `train` and in `audit-labels` alike."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipelines.train as train_module
from pipelines.cli import app
from pipelines.tables import InputError

LABELED = "工单,买家留言,判责\n" + "".join(f"l{i},快递{i}天没到,物流\nm{i},发错颜色{i},商家\n" for i in range(6))


@pytest.mark.parametrize("command", ["train", "audit-labels"])
def test_column_options_apply_to_unlabeled_files_that_have_the_header(
    command: str, tmp_path: Path, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
):
    seen = []

    def stop(cases, unlabeled, params, data):
        seen.append(unlabeled.texts)
        raise InputError(data, "stopped before fitting")

    monkeypatch.setattr(train_module, "fit_for_training", stop)
    labeled, unlabeled = tmp_path / "labeled.csv", tmp_path / "unlabeled.csv"
    labeled.write_text(LABELED, encoding="utf-8")
    unlabeled.write_text("工单,买家留言\nu1,客服不回消息\n", encoding="utf-8")
    options = ["--id-col", "工单", "--text-col", "买家留言", "--label-col", "判责", "--unlabeled", str(unlabeled)]
    result = CliRunner().invoke(app, [command, "--data", str(labeled), *options])
    assert result.exit_code == 2 and "stopped before fitting" in result.output
    assert seen == [("客服不回消息",)]
