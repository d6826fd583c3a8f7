"""The speed-ups change nothing: same vocabulary and matrices as scikit-learn, same masking, safe to save."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
import skops.io
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from pipelines import model as model_module
from pipelines.config import load_params
from pipelines.demo import generate
from pipelines.model import TRUSTED_TYPES, FastTfidfVectorizer, _pack_strings, _unpack_strings, build_pipeline
from pipelines.text import _ASCII_LOWER, _BLANKS, _INVISIBLE, _LINE_BREAKS, _mask_once, clean_texts, mask, normalize
from pipelines.tokenize import tokenize

SETTINGS = [
    {"analyzer": "char", "ngram_range": (1, 3), "min_df": 2, "max_features": 3000},
    {"analyzer": "char", "ngram_range": (2, 3), "min_df": 1},
    {"tokenizer": tokenize, "token_pattern": None, "ngram_range": (1, 2), "min_df": 2, "max_features": 2000},
    {"tokenizer": tokenize, "token_pattern": None, "ngram_range": (1, 3), "stop_words": ["快递"]},
    {"analyzer": "word", "lowercase": True, "ngram_range": (1, 2)},  # scikit-learn's own path
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [*clean_texts(generate(1200, seed=5)["text"]), "", "a", "  两个  空格\n\n换行 😡"]


@pytest.mark.parametrize("options", SETTINGS)
def test_same_vocabulary_and_matrices_as_scikit_learn(
    texts: list[str], options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_module, "BATCH_DOCS", 250)  # several batches, so merging them is exercised
    options = {"lowercase": False, "sublinear_tf": True, "dtype": np.float32} | options
    reference, fast = TfidfVectorizer(**options), FastTfidfVectorizer(**options)
    train, test = texts[:1000], texts[1000:]
    expected, got = reference.fit_transform(train), fast.fit_transform(train)
    assert fast.vocabulary_ == reference.vocabulary_
    assert abs(expected - got).max() < 1e-6
    assert abs(reference.transform(test) - fast.transform(test)).max() < 1e-6
    assert fast.build_analyzer()(test[0]) == reference.build_analyzer()(test[0])


def test_parallel_tokenizing_gives_the_same_matrix(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_module, "BATCH_DOCS", 300)
    monkeypatch.setattr(model_module, "PARALLEL_MIN_DOCS", 600)
    options = {"tokenizer": tokenize, "token_pattern": None, "lowercase": False, "ngram_range": (1, 2)}
    serial, parallel = FastTfidfVectorizer(**options, n_jobs=1), FastTfidfVectorizer(**options, n_jobs=2)
    assert abs(serial.fit_transform(texts) - parallel.fit_transform(texts)).max() == 0
    assert serial.vocabulary_ == parallel.vocabulary_


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3), max_size=30))
def test_char_ngram_codes_round_trip(grams: list[str]) -> None:
    assert _unpack_strings(_pack_strings(grams)) == grams


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("0123456789*@/:.httpwwwxyzcnom 订单号是电话 [x]-+()"), max_size=40))
def test_mask_shortcut_changes_nothing(text: str) -> None:
    slow = text
    while (masked := _mask_once(slow)) != slow:
        slow = masked
    assert mask(text) == slow


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        st.sampled_from("AaJjZz\u030c\u0301\u0338ｆＵＬＬ１２ﬁ①㍿ \t\n\r\u200b退货Ǆǆ，：！？；（）～=<"), max_size=30
    )
    | st.text(max_size=30)
)
def test_normalize_shortcuts_change_nothing(text: str) -> None:
    # The plain definition: NFKC always, ASCII lower-case always, NFKC again.
    slow = unicodedata.normalize("NFKC", _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text)))
    slow = unicodedata.normalize("NFKC", slow.translate(_ASCII_LOWER))
    lines = (line.strip() for line in _BLANKS.sub(" ", slow).split("\n"))
    assert normalize(text) == "\n".join(line for line in lines if line)


def test_saved_pipeline_trusts_only_project_types_and_loads_identical(texts: list[str]) -> None:
    labels = [*generate(1200, seed=5)["label"], "none", "none", "none"]
    frame = pd.DataFrame({"text": texts})
    pipe = build_pipeline(load_params()).fit(frame, labels)
    data = skops.io.dumps(pipe)
    assert set(skops.io.get_untrusted_types(data=data)) <= set(TRUSTED_TYPES)
    loaded = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    assert (loaded.predict_proba(frame) == pipe.predict_proba(frame)).all()
    for (_, saved), (_, fitted) in zip(_vectorizers(loaded), _vectorizers(pipe), strict=True):
        assert list(saved.vocabulary_.items()) == list(fitted.vocabulary_.items())
        assert all(type(column) is int for column in saved.vocabulary_.values())


def _vectorizers(pipe: Pipeline) -> list[tuple[str, FastTfidfVectorizer]]:
    return pipe.named_steps["select"].named_transformers_["text"].named_steps["features"].transformer_list


@pytest.mark.parametrize("n", [1, 2, 3, 41])  # 3 distinct tokens: 3**41 ids overflow an int64, so strings are joined
def test_word_ngram_ids_read_back_as_joined_tokens(n: int) -> None:
    tokens = np.array(["快递", "慢", "a"], dtype=object)
    token_ids = np.array([0, 1, 2, 0, 0, 1, 2] * 7)
    start = np.arange(len(token_ids) - n + 1)
    ids, names = model_module._ngram_ids(token_ids, tokens, start, n)
    expected = [" ".join(tokens[token_ids[i : i + n]]) for i in start]
    assert [names[i] for i in ids] == expected
    assert len(set(names)) == len(names)


def _slash_phrases(text: str) -> list[str]:
    """A tokenizer whose tokens may hold spaces, so that a unigram can read like a bigram."""
    return [phrase for phrase in text.split("/") if phrase]


def test_tokens_holding_spaces_count_as_scikit_learn_counts_them() -> None:
    train = ["a b/c", "c/a b/d", "a/b c/a b", "d/a/b"]
    test = ["a b/c/a", "a/b/c d", "x y/a/b", ""]
    options = {"tokenizer": _slash_phrases, "token_pattern": None, "lowercase": False, "ngram_range": (1, 2)}
    reference, fast = TfidfVectorizer(**options), FastTfidfVectorizer(**options)
    assert abs(reference.fit_transform(train) - fast.fit_transform(train)).max() < 1e-6
    assert fast.vocabulary_ == reference.vocabulary_
    assert abs(reference.transform(test) - fast.transform(test)).max() < 1e-6  # tokens with spaces: strings
    no_spaces = ["a/b/c", "d/a/b/a", "b/a"]  # token ids; "a b" is a key both ways
    assert abs(reference.transform(no_spaces) - fast.transform(no_spaces)).max() < 1e-6


def test_word_ids_that_would_overflow_fall_back_to_strings() -> None:
    many = {f"t{i}": i for i in range(70_000)}
    assert model_module._WordIndex.build(many | {"t1 t2 t3": 70_000}) is not None
    assert model_module._WordIndex.build(many | {"t1 t2 t3 t4": 70_000}) is None  # 70,000**4 > 2**63
