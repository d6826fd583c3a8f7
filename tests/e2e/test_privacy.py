"""Personal data in the training export must not reach MLflow: not the store, not any artifact, not the model."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.config import DEMO_FILE

pytestmark = pytest.mark.slow

#: One value of each kind of personal data the product promises to mask.
SECRETS = {
    "mobile": "13912345678",
    "id_card": "110101199003071234",
    "bank_card": "6222021234567890128",
    "email": "zhang.san@example.com",
    "order": "202611251234567890",
}


def seeded_export(tmp_path: Path) -> Path:
    cases = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).groupby("label").head(120)
    lines = [
        f"我的电话{SECRETS['mobile']}，",
        f"身份证{SECRETS['id_card']}，",
        f"退款请打到卡号{SECRETS['bank_card']}，",
        f"邮箱{SECRETS['email']}，",
        f"订单号{SECRETS['order']}，",
    ]
    cases["text"] = [lines[i % len(lines)] + text for i, text in enumerate(cases["text"])]
    path = tmp_path / "export.csv"
    cases.to_csv(path, index=False)
    return path


def readable_bytes(path: Path) -> bytes:
    """A file's bytes, with zip members (skops models) unpacked and Parquet decoded, so compressed text is
    searched too."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    if path.suffix == ".parquet":
        buffer = io.StringIO()
        pd.read_parquet(path).to_csv(buffer)
        return buffer.getvalue().encode()
    return path.read_bytes()


def liability(*args: str, store: str, cwd: Path) -> str:
    """Run the CLI as a user would and return everything it printed (logs included)."""
    env = os.environ | {"MLFLOW_TRACKING_URI": store}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]  # promote refusing is exit 1
    return done.stdout + done.stderr


def test_no_personal_data_reaches_the_store(mlflow_store: str, tmp_path: Path):
    export = seeded_export(tmp_path)
    printed = liability("train", "--data", str(export), store=mlflow_store, cwd=tmp_path)
    printed += liability("train", "--data", str(export), "--run-name", "again", store=mlflow_store, cwd=tmp_path)
    printed += liability("evaluate", "--gold", str(export), store=mlflow_store, cwd=tmp_path)
    printed += liability("score", str(export), str(tmp_path / "scored.csv"), store=mlflow_store, cwd=tmp_path)
    for kind, value in SECRETS.items():
        assert value not in printed, f"{kind} printed in the logs"

    store_dir = Path(mlflow_store.removeprefix("sqlite:///")).parent
    written = [p for p in store_dir.rglob("*") if p.is_file() and p not in (export, tmp_path / "scored.csv")]
    names = {p.name for p in written}
    assert any(n.endswith(".skops") for n in names), "the model itself must be scanned"
    assert {"heldout.parquet", "worst_errors.csv", "model_card.md", "summary.json"} <= names, names
    for path in written:
        content = readable_bytes(path)
        for kind, value in SECRETS.items():
            assert value.encode() not in content, f"{kind} found in {path.relative_to(store_dir)}"
