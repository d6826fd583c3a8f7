"""A scoring job killed with SIGKILL leaves no file that looks like a result, and a rerun completes it.

SIGKILL cannot be caught, so this checks the only defence that works against it: the output is written
under a hidden temporary name and renamed when complete, and the next job removes what the killed one left.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines.bench import _tree_pids
from pipelines.config import DEMO_FILE, PROJECT_ROOT

pytestmark = pytest.mark.slow
ROWS = 120_000


def _big_export(folder: Path) -> Path:
    demo = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False)[["case_id", "text"]]
    rows = demo.sample(ROWS, replace=True, random_state=0).reset_index(drop=True)
    rows["case_id"] = [f"K{i:06d}" for i in range(ROWS)]
    path = folder / "big.csv"
    rows.to_csv(path, index=False)
    return path


def _score(source: Path, output: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "score", str(source), str(output)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_mid_scoring_leaves_no_result_and_rerun_completes(trained_store: str, tmp_path: Path):
    source = _big_export(tmp_path)
    out_dir = tmp_path / "out"
    output = out_dir / "big.scored.csv"
    job = _score(source, output)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 1_000_000 for p in out_dir.glob(".*.tmp")) if out_dir.exists() else True:
        assert job.poll() is None, "the job ended before it could be killed mid-way; make the input bigger"
        assert time.monotonic() < deadline, "no partial output appeared within 2 minutes"
        time.sleep(0.05)
    workers = _tree_pids(job.pid)[1:]
    assert workers, "the scorer runs worker processes"
    job.send_signal(signal.SIGKILL)
    assert job.wait(timeout=30) == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "the killed scorer's workers are still running"
        time.sleep(0.2)

    assert not output.exists(), "a killed job must not leave a file named like the result"
    leftovers = list(out_dir.iterdir())
    assert all(p.name.startswith(f".{output.name}.{job.pid}.") and p.suffix == ".tmp" for p in leftovers), leftovers

    rerun = subprocess.run(
        [sys.executable, "-m", "pipelines", "score", str(source), str(output)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert [p.name for p in out_dir.iterdir()] == [output.name], "the rerun removes the killed job's temporary file"
    scored = pd.read_csv(output, dtype=str, keep_default_na=False, encoding="utf-8-sig", usecols=["case_id", "party"])
    assert scored["case_id"].tolist() == [f"K{i:06d}" for i in range(ROWS)]
    assert scored["party"].ne("").all()
