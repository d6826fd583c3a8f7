"""The model registry: registering versions under aliases, and loading models without running foreign code.

MLflow refuses to deserialize any scikit-learn model when ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is false
(its default in 3.17.2 is true, but a site may turn it off), because a model's own MLmodel file names the
types skops will trust. So this module checks that file first — skops format, and no trusted type beyond
the project's own functions — and only then allows deserialization, for that one load.
"""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import yaml
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient
from sklearn.pipeline import Pipeline

from pipelines.config import CANDIDATE_ALIAS, CHAMPION_ALIAS, MODEL_NAME
from pipelines.model import TRUSTED_TYPES

ALLOW_ENV = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"


class UnsafeModelError(RuntimeError):
    """The model file asks to run code this project does not vouch for."""


def register(client: MlflowClient, model_uri: str, tags: dict[str, str]) -> tuple[ModelVersion, list[str]]:
    """Register a logged model as a new version with alias ``candidate``; the very first also becomes ``champion``.

    Returns the version and the aliases it received.
    """
    version = mlflow.register_model(model_uri, MODEL_NAME, tags=tags)
    try:
        aliases = [CANDIDATE_ALIAS]
        client.set_registered_model_alias(MODEL_NAME, CANDIDATE_ALIAS, version.version)
        if alias_version(client, CHAMPION_ALIAS) is None:
            client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version.version)
            first = {"decision": "promoted", "reason": "first registered version: champion by default"}
            for key, value in first.items():
                client.set_model_version_tag(MODEL_NAME, version.version, f"promotion.{key}", value)
            aliases.append(CHAMPION_ALIAS)
    except Exception:
        # A version without its aliases would be half-registered: it exists, yet no alias leads to it.
        client.delete_model_version(MODEL_NAME, version.version)
        raise
    return version, aliases


def alias_version(client: MlflowClient, alias: str) -> ModelVersion | None:
    """The version an alias points at, or None when the alias (or the registered model) does not exist."""
    try:
        return client.get_model_version_by_alias(MODEL_NAME, alias)
    except MlflowException:
        return None


def download_model(model_uri: str, dst: Path | None = None) -> Path:
    """A local folder holding the model: the folder itself when ``model_uri`` is one (no copy), else a download."""
    if Path(model_uri).is_dir():
        return Path(model_uri)
    return Path(mlflow.artifacts.download_artifacts(model_uri, dst_path=str(dst) if dst else None))


def read_mlmodel(local_dir: Path) -> dict[str, Any]:
    """The model's MLmodel file (flavors, run id, and the metadata training stored with it)."""
    return yaml.safe_load((local_dir / "MLmodel").read_text(encoding="utf-8"))


def _flavor_conf(local_dir: Path) -> dict[str, Any]:
    return read_mlmodel(local_dir).get("flavors", {}).get("sklearn", {})


def check_model_safe(local_dir: Path, allow_pickle: bool = False) -> None:
    """Refuse pickle models (unless explicitly allowed) and skops models that trust foreign types."""
    conf = _flavor_conf(local_dir)
    fmt = conf.get("serialization_format")
    if fmt != "skops" and not allow_pickle:
        raise UnsafeModelError(
            f"{local_dir}: model is stored as '{fmt}', which can run arbitrary code when loaded; "
            "pass --allow-pickle only if you trust where it came from"
        )
    foreign = sorted(set(conf.get("skops_trusted_types") or ()) - set(TRUSTED_TYPES))
    if foreign:
        raise UnsafeModelError(f"{local_dir}: model asks to trust types outside this project: {foreign}")


@contextmanager
def _deserialization_allowed():
    previous = os.environ.get(ALLOW_ENV)
    os.environ[ALLOW_ENV] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ALLOW_ENV, None)
        else:
            os.environ[ALLOW_ENV] = previous


def _checked_download(model_uri: str, allow_pickle: bool) -> Path:
    local_dir = download_model(model_uri)
    check_model_safe(local_dir, allow_pickle)
    return local_dir


def _import_skops() -> None:
    """Import skops without importing torch.

    skops lists the estimators it trusts by importing every module of scikit-learn, and on the way pkgutil
    imports scikit-learn's vendored torch adapter, which imports torch whenever it is installed (the
    ``vectors`` extra is): about a second more on every model load, for a library no saved model uses. With
    torch hidden for this one import, the adapter fails to import and pkgutil passes over it.
    """
    if "skops.io" in sys.modules or "torch" in sys.modules:
        importlib.import_module("skops.io")
        return
    sys.modules["torch"] = None  # None in sys.modules: "import torch" fails
    try:
        importlib.import_module("skops.io")
    finally:
        del sys.modules["torch"]


def import_loader() -> None:
    """Import what loading a model imports (MLflow's sklearn flavor and skops, about half a second), so that
    a caller can do it while another process finds the model."""
    importlib.import_module("mlflow.sklearn")
    _import_skops()


def load_sklearn(model_uri: str, allow_pickle: bool = False) -> Pipeline:
    """Load the scikit-learn pipeline behind a registry URI (``models:/name@alias``) or a local model folder."""
    _import_skops()
    local_dir = _checked_download(model_uri, allow_pickle)
    with _deserialization_allowed():
        return mlflow.sklearn.load_model(str(local_dir))


def load_pyfunc(model_uri: str, allow_pickle: bool = False) -> PyFuncModel:
    """Load a model as MLflow's pyfunc wrapper, which ``mlflow.models.evaluate`` needs to link results to it.

    Passing the loaded wrapper (rather than a URI) to evaluate keeps deserialization allowed for this one
    checked load only; ``get_raw_model()`` gives the scikit-learn pipeline behind it.
    """
    _import_skops()
    local_dir = _checked_download(model_uri, allow_pickle)
    with _deserialization_allowed():
        return mlflow.pyfunc.load_model(str(local_dir))
