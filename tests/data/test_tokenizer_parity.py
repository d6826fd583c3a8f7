"""rjieba and jieba give identical tokens on the demo corpus and on real texts (user dictionary loaded).

A model trained with one backend must be scorable with the other, so parity is checked on the data the
model actually sees, after clean().
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from pipelines.config import AGENT_MARK, BUYER_MARK, DEMO_FILE
from pipelines.text import clean
from pipelines.tokenize import tokenize_with

SAMPLE_SIZE = 2000
SEED = 20240601


def _mismatches(texts: list[str]) -> list[tuple[str, list[str], list[str]]]:
    """The cleaned texts on which the two backends differ, with both token lists."""
    found = []
    for text in map(clean, texts):
        fast, reference = tokenize_with(text, "rjieba"), tokenize_with(text, "jieba")
        if fast != reference:
            found.append((text, fast, reference))
    return found


def test_backends_agree_on_demo_corpus() -> None:
    if not DEMO_FILE.exists():
        pytest.skip(f"demo corpus not generated yet: {DEMO_FILE}")
    texts = pd.read_csv(DEMO_FILE, usecols=["text"])["text"].fillna("").astype(str).tolist()
    assert texts
    bad = _mismatches(texts)
    assert not bad, f"{len(bad)} of {len(texts)} demo texts differ, e.g. {bad[0]}"


def _chat_cases(path: Path) -> list[str]:
    """Chat turns joined per case, one line per turn, with the buyer/agent markers the cases use."""
    turns = pd.read_csv(path, usecols=["case_id", "turn", "role", "text"]).sort_values(["case_id", "turn"])
    marks = turns["role"].map({"buyer": BUYER_MARK, "agent": AGENT_MARK}).fillna("")
    lines = marks + turns["text"].fillna("").astype(str)
    return lines.groupby(turns["case_id"], sort=True).agg("\n".join).tolist()


def _real_texts(real: Path) -> list[str]:
    """Every real text: reviews, joined chats, call summaries and food-delivery reviews."""
    texts = _chat_cases(real / "chats.csv")
    for name in ("reviews.csv", "summaries.csv", "waimai.csv"):
        texts += pd.read_csv(real / name, usecols=["text"])["text"].fillna("").astype(str).tolist()
    return texts


@pytest.mark.real
def test_backends_agree_on_real_sample(real_dir: Path) -> None:
    texts = _real_texts(real_dir / "real")
    sample = random.Random(SEED).sample(texts, min(SAMPLE_SIZE, len(texts)))
    bad = _mismatches(sample)
    assert not bad, f"{len(bad)} of {len(sample)} real texts differ, e.g. {bad[0]}"
