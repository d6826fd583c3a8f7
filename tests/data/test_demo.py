"""The shipped demo corpus is reproducible, varied and hard enough that keywords alone cannot label it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.config import AGENT_MARK, BUYER_MARK, DEMO_FILE
from pipelines.demo import COLUMNS, MAX_CHARS, MIN_CHARS, generate, write_demo
from pipelines.demo_phrases import CATEGORY_WEIGHTS, CHANNEL_WEIGHTS, GENRE_WEIGHTS, LABEL_WEIGHTS


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False)


def test_generate_is_deterministic() -> None:
    pd.testing.assert_frame_equal(generate(300), generate(300))
    assert not generate(300, seed=1)["text"].equals(generate(300)["text"])


def test_write_demo_reproduces_shipped_file_byte_for_byte(tmp_path: Path) -> None:
    out = write_demo(tmp_path / "disputes.csv")
    assert out.read_bytes() == DEMO_FILE.read_bytes()


def test_columns_labels_and_shares(shipped: pd.DataFrame) -> None:
    assert tuple(shipped.columns) == COLUMNS
    assert len(shipped) >= 5000
    shares = shipped["label"].value_counts(normalize=True)
    assert set(shares.index) == set(LABEL_WEIGHTS)
    for label, weight in LABEL_WEIGHTS.items():
        assert abs(shares[label] - weight / 100) < 0.03, label
    genre_shares = shipped["genre"].value_counts(normalize=True)
    for genre, weight in GENRE_WEIGHTS.items():
        assert abs(genre_shares[genre] - weight / 100) < 0.03, genre


def test_every_genre_channel_and_category_present(shipped: pd.DataFrame) -> None:
    assert set(shipped["genre"]) == set(GENRE_WEIGHTS)
    assert set(shipped["channel"]) == set(CHANNEL_WEIGHTS) | {"当当"}
    assert set(shipped["category"]) == set(CATEGORY_WEIGHTS)


def test_ids_unique_and_texts_nonempty_and_bounded(shipped: pd.DataFrame) -> None:
    assert shipped["case_id"].is_unique
    assert shipped["case_id"].str.fullmatch(r"D\d{6}").all()
    lengths = shipped["text"].str.len()
    assert lengths.between(MIN_CHARS, MAX_CHARS).all()
    assert shipped["text"].nunique() / len(shipped) > 0.99


def test_chats_have_both_speakers_on_every_line(shipped: pd.DataFrame) -> None:
    for text in shipped.loc[shipped["genre"] == "chat", "text"]:
        lines = text.split("\n")
        assert 4 <= len(lines) <= 14
        assert all(line.startswith((BUYER_MARK, AGENT_MARK)) for line in lines)
        assert any(line.startswith(BUYER_MARK) for line in lines)
        assert any(line.startswith(AGENT_MARK) for line in lines)
    assert not shipped.loc[shipped["genre"] != "chat", "text"].str.contains(BUYER_MARK).any()


def _labels_with(shipped: pd.DataFrame, word: str) -> set[str]:
    return set(shipped.loc[shipped["text"].str.contains(word, regex=False), "label"])


def test_hard_cases_share_vocabulary_across_labels(shipped: pd.DataFrame) -> None:
    assert len(_labels_with(shipped, "京东自营")) >= 3
    for word in ("快递", "商家", "退款", "客服", "质量"):
        assert len(_labels_with(shipped, word)) >= 4, word


def test_numbers_come_masked_placeholdered_and_raw(shipped: pd.DataFrame) -> None:
    text = shipped["text"]
    assert text.str.contains(r"\d{2,4}\*{4}\d{4}").any()
    assert text.str.contains("[订单x]", regex=False).any()
    assert text.str.contains(r"(?<!\d)1[3-9]\d{9}(?!\d)").any()
    assert text.str.contains(r"(?<!\d)\d{16,19}(?!\d)").any()
