"""The keyword baseline behaves like the obvious rule it claims to be."""

from __future__ import annotations

from pipelines.baseline import KEYWORDS, TIE_ORDER, keyword_scores, predict_keywords
from pipelines.config import PARTY_CODES


def test_obvious_sentences() -> None:
    texts = [
        "快递太慢了，物流三天没更新",
        "质量太差，明显是假货",
        "买完就降价，价保不给，优惠券也用不了",
        "我自己拍错了尺码，不想要了",
        "请问这款有现货吗",
    ]
    assert predict_keywords(texts) == ["logistics", "merchant", "platform", "consumer", "none"]


def test_no_hit_is_none_and_empty_input_is_empty() -> None:
    assert predict_keywords(["挺好的，谢谢"]) == ["none"]
    assert predict_keywords([]) == []


def test_ties_follow_fixed_party_order() -> None:
    text = "商家说是快递的问题"
    scores = keyword_scores(text)
    assert scores["merchant"] == scores["logistics"] == 1
    assert predict_keywords([text]) == [TIE_ORDER[0]]


def test_keywords_cover_every_party_and_accept_any_iterable() -> None:
    assert sorted(KEYWORDS) == sorted(PARTY_CODES)
    assert predict_keywords(t for t in ("顺丰丢件了",)) == ["logistics"]
