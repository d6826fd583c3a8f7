"""One model fitted per test session on the shipped demo corpus, without MLflow, for behaviour checks."""

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from pipelines.config import DEMO_FILE, load_params
from pipelines.model import TEXT_COLUMN, build_pipeline


@pytest.fixture(scope="session")
def demo_model() -> Pipeline:
    cases = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False)
    model = build_pipeline(load_params())
    return model.fit(cases[[TEXT_COLUMN]], cases["label"])


def predict(model: Pipeline, *texts: str) -> list[str]:
    return list(model.predict(pd.DataFrame({TEXT_COLUMN: list(texts)})))
