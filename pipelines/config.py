"""Paths, party names and hyperparameters: the constants every stage agrees on.

Everything that a user may want to change about training lives in ``params.toml`` beside this file,
so that one file records what a run was trained with (it is logged to MLflow with every run).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
PARAMS_FILE = PACKAGE_DIR / "params.toml"
DATA_DIR = PROJECT_ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
DEMO_FILE = DEMO_DIR / "disputes.csv"
#: The shipped demo corpus's size and seed: `make demo` regenerates exactly it.
DEMO_CASES, DEMO_SEED = 6000, 20261125
MODELS_DIR = PROJECT_ROOT / "models"

EXPERIMENT = "liability"
#: Evaluation runs live apart from training runs, so each experiment's table compares like with like.
EVAL_EXPERIMENT = "liability-evaluation"
#: One run per batch-scoring job: what was scored, with which model, and how the predictions came out.
SCORING_EXPERIMENT = "liability-scoring"
MODEL_NAME = "liability-classifier"
CANDIDATE_ALIAS = "candidate"
CHAMPION_ALIAS = "champion"
#: The model scoring uses unless told otherwise: whatever version is champion now.
CHAMPION_URI = f"models:/{MODEL_NAME}@{CHAMPION_ALIAS}"

#: Environment variable naming the folder of real (unlabeled and gold) data; default: ../shared/data.
REAL_DATA_ENV = "LIABILITY_REAL_DATA"


@dataclass(frozen=True)
class Party:
    """A responsible party: the code used in data and models, and its Chinese name for reviewers."""

    code: str
    zh: str


PARTIES: tuple[Party, ...] = (
    Party("merchant", "商家"),
    Party("platform", "平台"),
    Party("consumer", "消费者"),
    Party("logistics", "物流"),
)
PARTY_CODES: tuple[str, ...] = tuple(p.code for p in PARTIES)
#: Every built-in label: the four parties and ``none`` (no party to blame).
LABELS: tuple[str, ...] = (*PARTY_CODES, "none")
#: Chinese display name of every known label, including ``none`` (no party to blame).
ZH_NAMES: dict[str, str] = {p.code: p.zh for p in PARTIES} | {"none": "无责任方"}

#: Chat speaker markers as they appear at the start of a line of a chat case's text.
BUYER_MARK = "买家："
AGENT_MARK = "客服："


def real_data_dir(explicit: str | Path | None = None) -> Path:
    """Where the real data lives: an explicit path, else ``$LIABILITY_REAL_DATA``, else ``../shared/data``."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(REAL_DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data").resolve()


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Read the hyperparameter file; a missing section is an error because training would silently differ."""
    with path.open("rb") as fh:
        params = tomllib.load(fh)
    for section in ("split", "features", "classifier", "review"):
        if section not in params:
            raise KeyError(f"{path}: missing section [{section}]")
    return params
