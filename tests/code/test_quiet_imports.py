"""Commands print no false alarm from optional extras: pandera imports pyspark.pandas whenever pyspark is
installed, and pyspark 4.0 warns there about pandas 3, a module the project never uses."""

import importlib.util
import subprocess
import sys

import pytest

VALIDATE = """
import pandas as pd
from pipelines.cases import to_cases
to_cases(pd.DataFrame({"case_id": ["1"], "text": ["快递一直不更新"], "label": ["logistics"]}), need_label=True)
"""


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="the spark extra is not installed")
def test_reading_cases_raises_no_pyspark_pandas_warning():
    done = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", VALIDATE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
