"""Files the evaluation tests train and evaluate with, written into each test's temporary folder."""

from pathlib import Path

import pandas as pd

from pipelines.config import DEMO_FILE, PARAMS_FILE


def weak_params(folder: Path) -> Path:
    """params.toml with almost no capacity (C=0.01): a model that is clearly worse, to be refused."""
    text = PARAMS_FILE.read_text(encoding="utf-8")
    assert "C = 4.0 " in text
    path = folder / "weak.toml"
    path.write_text(text.replace("C = 4.0 ", "C = 0.01 "), encoding="utf-8")
    return path


def labeled_file(folder: Path, n: int = 200) -> Path:
    """A small external labeled file (the demo corpus' last cases), standing in for a gold set."""
    cases = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).tail(n)
    path = folder / "gold-sample.csv"
    cases.to_csv(path, index=False)
    return path
