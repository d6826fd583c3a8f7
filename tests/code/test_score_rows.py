"""Scoring chunk by chunk with a small in-memory model: every row out, errors per row, chats whole."""

from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pipelines.score
import pipelines.tokenize
from pipelines.cases import find_columns
from pipelines.config import DEMO_FILE, load_params
from pipelines.model import TEXT_COLUMN, build_pipeline
from pipelines.score import (
    EMPTY_TEXT,
    MISSING_ID,
    UNDECODABLE,
    UNKNOWN_ROLE,
    ScoreCache,
    ScoreSummary,
    score_columns,
    score_frame,
    scored_chunks,
    whole_chats,
)
from pipelines.scoring_model import ModelIdentity, ScoringModel
from pipelines.tables import FILE_COL, ROW_COL, InputError, iter_table_chunks
from pipelines.text import clean_texts

IDENTITY = ModelIdentity("liability-classifier", "7", "run123")


@pytest.fixture(scope="module")
def fitted():
    cases = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).sample(600, random_state=0)
    params = load_params()
    return build_pipeline(params).fit(cases[[TEXT_COLUMN]], cases["label"])


@pytest.fixture(scope="module")
def model(fitted) -> ScoringModel:
    return ScoringModel.from_pipeline(fitted, IDENTITY, review_threshold=0.6)


def _table(**columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    return frame.assign(**{FILE_COL: "export.csv", ROW_COL: range(2, len(frame) + 2)})


def _score(model: ScoringModel, frame: pd.DataFrame) -> tuple[pd.DataFrame, ScoreSummary]:
    summary = ScoreSummary("export.csv", [], IDENTITY)
    cols = find_columns(frame, need_label=False)
    return score_frame(model, frame, cols, summary), summary


def test_every_row_comes_out_with_its_error_or_its_prediction(model: ScoringModel, fitted):
    texts = [
        "快递员把包裹弄丢了，物流一直不更新",
        "",
        "   \n ",
        "商家发来的是假货\ufffd\ufffd",
        "我自己拍错尺码了",
        "\u200b",
    ]
    frame = _table(编号=[f"A{i}" for i in range(len(texts))], 内容=texts, 备注=["x"] * len(texts))
    out, summary = _score(model, frame)

    assert len(out) == len(frame)
    assert list(out.columns) == ["编号", "内容", "备注", *score_columns(model.classes)]
    assert _errors(out) == [None, EMPTY_TEXT, EMPTY_TEXT, UNDECODABLE, None, EMPTY_TEXT]
    ok = out["score_error"].isna().to_numpy()
    assert out.loc[~ok, "party"].isna().all() and out.loc[~ok, "confidence"].isna().all()
    assert out["needs_review"].dtype == bool
    assert out.loc[~ok, "needs_review"].all(), "rows that could not be scored go to a person"
    assert (out.loc[ok, "needs_review"] == (out.loc[ok, "confidence"] < 0.6)).all()
    assert out.loc[ok, "top_terms"].str.contains(r"\(\+\d\.\d\d\)").all()
    assert set(out["model_version"]) == {"7"} and set(out["model_run_id"]) == {"run123"}

    expected = fitted.predict_proba(pd.DataFrame({TEXT_COLUMN: [texts[0], texts[4]]}))
    probabilities = out.loc[ok, [f"p_{c}" for c in model.classes]].to_numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
    assert out.loc[ok, "party"].tolist() == list(fitted.predict(pd.DataFrame({TEXT_COLUMN: [texts[0], texts[4]]})))
    assert out.loc[ok, "party_zh"].notna().all()

    assert (summary.rows_read, summary.rows_scored, summary.rows_failed) == (6, 2, 4)
    assert summary.failures == {EMPTY_TEXT: 3, UNDECODABLE: 1}
    assert summary.word_tokens > 0


def test_input_columns_named_like_output_columns_are_kept_renamed(model: ScoringModel):
    frame = _table(case_id=["1"], text=["快递丢件"], party=["物流"], confidence=["高"])
    out, _ = _score(model, frame)
    assert list(out.columns[:4]) == ["case_id", "text", "party_input", "confidence_input"]
    assert out["party_input"].tolist() == ["物流"]


def test_a_gbk_export_with_a_broken_byte_keeps_every_row(tmp_path: Path, model: ScoringModel):
    path = tmp_path / "broken.csv"
    lines = ["case_id,text", "1,快递把包裹弄丢了", "2,商家发错货了", "3,", "5,平台乱扣我的钱"]
    raw = "\n".join(lines[:3]).encode("gbk") + b"\n4,\xb7\xa2\xff\xfe\xd5\xf5\n" + "\n".join(lines[3:]).encode("gbk")
    path.write_bytes(raw + b"\n")
    summary = ScoreSummary(str(path), [], IDENTITY)
    outs = []
    for frame, _ in iter_table_chunks(path, rows=2):
        outs.append(score_frame(model, frame, find_columns(frame, need_label=False), summary))
    out = pd.concat(outs, ignore_index=True)
    assert out["case_id"].tolist() == ["1", "2", "4", "3", "5"]
    assert _errors(out) == [None, None, UNDECODABLE, EMPTY_TEXT, None]
    assert summary.rows_read == 5 and summary.rows_scored == 3


CHAT = {  # c2 has an unknown role, a turn lacks its id, c4 has no text, and the last row is blank
    "case_id": ["c1", "c1", "c1", "c2", "c2", "c3", "c3", "", "c4", ""],
    "turn": ["1", "2", "3", "1", "2", "1", "2", "1", "1", ""],
    "role": ["买家", "客服", "buyer", "买家", "机器人", "买家", "客服", "买家", "", ""],
    "text": [
        "快递三天没动了",
        "亲，已为您催促物流",
        "还是没到，包裹是不是丢了",
        "东西是坏的",
        "?",
        "我拍错了",
        "",
        "孤儿",
        "",
        "",
    ],
}


def _errors(out: pd.DataFrame) -> list[str | None]:
    return [None if pd.isna(v) else v for v in out["score_error"]]


def _chunks(frame: pd.DataFrame, rows: int) -> Iterator[tuple[pd.DataFrame, float]]:
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows].reset_index(drop=True), 1.0


def test_chat_turns_get_their_chats_prediction_whatever_the_chunking(model: ScoringModel, fitted):
    frame = _table(**CHAT)
    cols = find_columns(frame, need_label=False)
    whole, _ = _score(model, frame)
    assert len(whole) == len(frame)
    assert _errors(whole) == [None] * 3 + [UNKNOWN_ROLE] * 2 + [None] * 2 + [MISSING_ID, EMPTY_TEXT, EMPTY_TEXT]
    joined = "买家：快递三天没动了\n客服：亲，已为您催促物流\n买家：还是没到，包裹是不是丢了"
    expected = fitted.predict_proba(pd.DataFrame({TEXT_COLUMN: [joined]}))[0]
    for row in range(3):
        np.testing.assert_allclose(
            whole.loc[row, [f"p_{c}" for c in model.classes]].to_numpy(float), expected, rtol=1e-6
        )
    assert whole.loc[5, "party"] == whole.loc[6, "party"], "an empty turn still gets its chat's prediction"

    for rows in (1, 2, 4):
        summary = ScoreSummary("export.csv", [], IDENTITY)
        parts = [score_frame(model, f, cols, summary) for f, _ in whole_chats(_chunks(frame, rows), cols.case_id)]
        assert pd.concat(parts, ignore_index=True).equals(whole), f"chunks of {rows} rows"


def test_chat_turns_split_apart_stop_the_file(model: ScoringModel):
    frame = _table(case_id=["a", "b", "a"], role=["买家"] * 3, text=["一", "二", "三"])
    cols = find_columns(frame, need_label=False)
    for rows in (1, 3):
        with pytest.raises(InputError, match="'a' are not next to each other") as err:
            list(whole_chats(_chunks(frame, rows), cols.case_id))
        assert err.value.row == 4


def test_an_empty_table_gives_one_empty_chunk(model: ScoringModel):
    frame = _table(case_id=[], role=[], text=[])
    cols = replace(find_columns(frame, need_label=False))
    chunks = list(whole_chats(iter([(frame, 1.0)]), cols.case_id))
    assert len(chunks) == 1 and chunks[0][0].empty
    out, summary = _score(model, frame)
    assert out.empty and summary.rows_read == 0


def _scored_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the scorer sends to the model from now on (the in-process path)."""
    sent: list[str] = []
    score_cases = pipelines.score.score_cases

    def counting(model: ScoringModel, texts: list[str], drift_sample: int):
        sent.extend(texts)
        return score_cases(model, texts, drift_sample)

    monkeypatch.setattr(pipelines.score, "score_cases", counting)
    return sent


@pytest.mark.parametrize("limit_chars", [pipelines.score.CACHE_CHARS, 8])
def test_a_text_that_comes_back_in_a_later_chunk_is_scored_once(
    model: ScoringModel, monkeypatch: pytest.MonkeyPatch, limit_chars: int
):
    texts = ["快递丢件了", "商家发错货", "我拍错了", "快递丢件了", "平台乱扣钱", "商家发错货", "", "快递丢件了"]
    frame = _table(case_id=[str(i) for i in range(len(texts))], text=texts)
    cols = find_columns(frame, need_label=False)
    apart = pd.concat([score_frame(model, f, cols, ScoreSummary("x", [], IDENTITY)) for f, _ in _chunks(frame, 3)])

    sent = _scored_texts(monkeypatch)
    monkeypatch.setattr(pipelines.score, "ScoreCache", partial(ScoreCache, limit_chars))
    summary = ScoreSummary("x", [], IDENTITY)
    together = pd.concat([f for f, _ in scored_chunks(model, _chunks(frame, 3), cols, summary, workers=1)])

    assert together.reset_index(drop=True).equals(apart.reset_index(drop=True))
    if limit_chars == pipelines.score.CACHE_CHARS:
        assert sorted(sent) == sorted(set(texts)), "every distinct text once"
    else:
        assert len(sent) > len(set(texts)), "a full cache starts over and texts are scored again"
    assert summary.rows_read == len(texts) and summary.rows_scored == len(texts) - 1


def test_a_batch_segments_each_review_once(model: ScoringModel, fitted, monkeypatch: pytest.MonkeyPatch):
    texts = clean_texts(["快递丢件了没人管", "商家发错货", "我拍错了尺码"])
    segmented: list[str] = []
    tokenize_with = pipelines.tokenize.tokenize_with

    def counting(text: str, backend: str) -> list[str]:
        segmented.append(text)
        return tokenize_with(text, backend)

    monkeypatch.setattr(pipelines.tokenize, "tokenize_with", counting)
    matrix, word_tokens, _ = model.features(texts)
    assert sorted(segmented) == sorted(texts), "the words block and the drift sample share one segmentation"
    union = fitted.named_steps["select"].named_transformers_["text"].named_steps["features"]
    assert (matrix != union.transform(texts)).nnz == 0 and word_tokens > 0


def test_the_drift_signal_counts_a_text_scored_once_once(model: ScoringModel):
    frame = _table(case_id=["1", "2"], text=["快递丢件了没人管", "快递丢件了没人管"])
    cols = find_columns(frame, need_label=False)
    once, twice = ScoreSummary("x", [], IDENTITY), ScoreSummary("x", [], IDENTITY)
    list(scored_chunks(model, _chunks(frame.iloc[:1], 1), cols, once, workers=1))
    list(scored_chunks(model, _chunks(frame, 1), cols, twice, workers=1))
    assert once.word_tokens > 0
    assert (twice.word_tokens, twice.unseen_tokens) == (once.word_tokens, once.unseen_tokens)
