"""Model loading refuses formats and types that could run code this project does not vouch for."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.model import TRUSTED_TYPES
from pipelines.registry import UnsafeModelError, check_model_safe


def model_dir(tmp_path: Path, fmt: str, trusted: list[str] | None) -> Path:
    flavor = {"serialization_format": fmt, "pickled_model": "model.skops"}
    if trusted is not None:
        flavor["skops_trusted_types"] = trusted
    (tmp_path / "MLmodel").write_text(yaml.safe_dump({"flavors": {"sklearn": flavor}}), encoding="utf-8")
    return tmp_path


def test_project_skops_model_is_accepted(tmp_path: Path):
    check_model_safe(model_dir(tmp_path, "skops", list(TRUSTED_TYPES)))


@pytest.mark.parametrize("fmt", ["pickle", "cloudpickle"])
def test_pickle_is_refused_unless_allowed(tmp_path: Path, fmt: str):
    path = model_dir(tmp_path, fmt, None)
    with pytest.raises(UnsafeModelError, match="arbitrary code"):
        check_model_safe(path)
    check_model_safe(path, allow_pickle=True)


def test_foreign_trusted_types_are_refused(tmp_path: Path):
    path = model_dir(tmp_path, "skops", [*TRUSTED_TYPES, "builtins.eval"])
    with pytest.raises(UnsafeModelError, match=r"builtins\.eval"):
        check_model_safe(path)


def test_failed_alias_leaves_no_half_registered_version(mlflow_store: str, monkeypatch: pytest.MonkeyPatch):
    import mlflow
    from mlflow.tracking import MlflowClient

    from pipelines.config import MODEL_NAME
    from pipelines.registry import register
    from pipelines.tracking import use_store

    client = use_store()
    with mlflow.start_run():
        mlflow.log_text("x", "model/MLmodel")
        uri = mlflow.get_artifact_uri("model")

    def broken_alias(*args, **kwargs):
        raise ConnectionError("store went away")

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", broken_alias)
    with pytest.raises(ConnectionError):
        register(client, uri, {})
    assert client.search_model_versions(f"name='{MODEL_NAME}'") == []


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed: nothing to keep out")
def test_the_model_loader_does_not_import_torch():
    # skops imports every scikit-learn module, torch adapter included; that cost a second on every cold start.
    code = "import sys; from pipelines.registry import import_loader; import_loader(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
