"""Every notebook runs top to bottom against a store with a small trained champion, so none can rot."""

from pathlib import Path

import mlflow
import nbformat
import pytest
from nbclient import NotebookClient

from pipelines.config import PROJECT_ROOT
from pipelines.train import train

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module", params=[False, True], ids=["split", "refit"])
def store_with_champion(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> tuple[str, bool]:
    """A champion measured on a held-out split, or fit on every case and measured out of fold (as
    ``make train-real`` registers), whose own training cases are no measure of it."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        train(sample=600, refit=request.param)
    mlflow.set_tracking_uri(None)
    return uri, request.param


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(
    path: Path, store_with_champion: tuple[str, bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    uri, refit = store_with_champion
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # the kernel inherits it
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the confusion matrix must be drawn"
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert ("cases measured out of fold" in printed) == refit, printed
