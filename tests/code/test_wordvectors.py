"""Word-vector features: a text's vector is the idf-weighted mean of its words' vectors, chats are left out."""

import numpy as np
import pytest

import pipelines.wordvectors as wv
from pipelines.encoder import EncoderUnavailableError, WordEncoder
from pipelines.text import clean_texts
from pipelines.tokenize import tokenize

REVIEWS = ["快递太慢了", "商家发错货了", "快递员态度差", "质量太差"]
CHAT = "买家：快递太慢了\n客服：亲亲，帮您催一下"


class FakeEncoder:
    """A fixed random vector per word, recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def encode(self, words: list[str]) -> np.ndarray:
        self.asked += words
        return np.stack([np.random.default_rng(abs(hash(w)) % 2**32).standard_normal(8) for w in words]).astype(
            np.float32
        )


@pytest.fixture
def features(monkeypatch) -> tuple[wv.WordVectorFeatures, FakeEncoder]:
    encoder = FakeEncoder()
    monkeypatch.setattr(wv, "word_encoder", lambda: encoder)
    return wv.WordVectorFeatures(dimensions=4).fit(clean_texts([*REVIEWS, CHAT])), encoder


def test_every_word_of_the_training_texts_is_encoded_once(features):
    fitted, encoder = features
    words = {w for text in clean_texts([*REVIEWS, CHAT]) for w in tokenize(text)}
    assert sorted(encoder.asked) == sorted(words)
    assert fitted.table_.shape == (len(words), 4)


def test_a_text_vector_is_the_normalized_idf_weighted_mean_of_its_word_vectors(features):
    fitted, _ = features
    text = clean_texts(["快递太慢了"])[0]
    counts = fitted.counts_.transform([text]).toarray()[0]
    expected = counts @ fitted.table_
    np.testing.assert_allclose(fitted.embed([text])[0], expected / np.linalg.norm(expected), rtol=1e-5)


def test_chats_get_no_vector_and_the_flag_says_which_rows_have_one(features):
    fitted, _ = features
    x = fitted.transform(clean_texts([REVIEWS[0], CHAT, "完全没见过的字眼"])).toarray()
    assert x.shape == (3, 5)
    assert list(x[:, -1]) == [1, 0, 1]
    assert not x[1].any()
    assert np.isclose(np.linalg.norm(x[0, :-1]), 1.0)
    names = fitted.get_feature_names_out()
    assert names[-1] == wv.USED and names[0] == "向量:0"


def test_words_never_seen_in_training_add_nothing(features):
    fitted, _ = features
    unseen, mixed = clean_texts(["鼠标键盘显示器", "快递太慢了鼠标键盘"])
    assert not fitted.embed([unseen]).any()
    assert fitted.embed([mixed]).any()


def test_a_missing_encoder_says_how_to_get_it(tmp_path):
    with pytest.raises(EncoderUnavailableError, match="make encoder"):
        WordEncoder(tmp_path)


def test_training_without_the_encoder_stops_before_fitting_and_says_how_to_get_it(tmp_path, mlflow_store, monkeypatch):
    from typer.testing import CliRunner

    import pipelines.fewlabel as fewlabel
    from pipelines.cli import app
    from pipelines.config import DEMO_FILE

    def missing() -> None:
        raise EncoderUnavailableError("the word encoder is not in models/encoders: run `make encoder`")

    monkeypatch.setattr(fewlabel, "word_encoder", missing)
    monkeypatch.setattr(fewlabel, "build_pipeline", lambda params: pytest.fail("fitting started"))
    unlabeled = tmp_path / "chats.csv"
    unlabeled.write_text("case_id,text\nu1,快递太慢了\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--data", str(DEMO_FILE), "--unlabeled", str(unlabeled)])
    assert result.exit_code == 2 and "make encoder" in result.output
