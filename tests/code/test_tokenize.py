"""The model's tokenizer: dictionary words whole, chat roles marked, both backends identical."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipelines.tokenize
from pipelines.text import clean
from pipelines.tokenize import (
    AGENT_PREFIX,
    STOPWORDS_FILE,
    USERDICT_FILE,
    _cutter,
    _line_tokens,
    _resources,
    shared_tokens,
    tokenize,
    tokenize_with,
)

BACKENDS = ("rjieba", "jieba")


def _both(text: str) -> list[str]:
    """Tokens of a cleaned text, asserting first that both backends agree."""
    text = clean(text)
    fast, reference = tokenize_with(text, "rjieba"), tokenize_with(text, "jieba")
    assert fast == reference
    return fast


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("支持七天无理由吗", "七天无理由"),
        ("我要申请七天无理由退货", "七天无理由退货"),
        ("这是京东自营的商品", "京东自营"),
        ("快递放在菜鸟驿站了", "菜鸟驿站"),
        ("我是PLUS会员", "plus会员"),
        ("我是plus会员,买了东西", "plus会员"),
        ("88VIP怎么不打折", "88vip"),
        ("买双11礼物", "双11"),
        ("申请仅退款被拒", "仅退款"),
        ("商家发错货了", "发错货"),
        ("要求平台介入处理", "平台介入"),
        ("快递员代签收了", "代签收"),
        ("我一直没收到货", "没收到货"),
    ],
)
def test_user_dictionary_words_stay_whole(text: str, word: str) -> None:
    assert word in _both(text)


def test_every_han_user_word_is_one_token_alone_with_both_backends() -> None:
    for word, _, _ in _resources().han_words:
        for backend in BACKENDS:
            assert _cutter(backend)(word) == [word], (backend, word)


def test_resource_files_are_clean() -> None:
    words = USERDICT_FILE.read_text(encoding="utf-8").split("\n")
    assert len({w.split()[0] for w in words if w}) >= 160
    stopwords = set(STOPWORDS_FILE.read_text(encoding="utf-8").split())
    assert not stopwords & {"不", "没", "没有", "未", "别", "无"}, "negations carry the blame"


def test_chat_roles_prefix_agent_tokens_only() -> None:
    text = "买家：快递一直没到\n客服：亲，已经为您催促快递\n买家：好的,谢谢"
    tokens = _both(text)
    assert "快递" in tokens and f"{AGENT_PREFIX}快递" in tokens
    assert f"{AGENT_PREFIX}催促" in tokens
    assert "谢谢" in tokens and f"{AGENT_PREFIX}谢谢" not in tokens
    assert not {"买家", "客服", f"{AGENT_PREFIX}客服"} & set(tokens), "markers are not tokens"


def test_agent_role_carries_over_continuation_lines() -> None:
    expected = [AGENT_PREFIX + word for word in ("您好", "请", "提供", "订单号")]
    assert _both("客服:您好\n请提供订单号") == expected


def test_plain_text_and_mid_line_markers_give_plain_tokens() -> None:
    tokens = _both("我问客服:为什么不发货")
    assert "客服" in tokens and "不发货" in tokens
    assert not any(t.startswith(AGENT_PREFIX) for t in tokens)


def test_placeholders_are_single_tokens() -> None:
    tokens = _both("客服:[订单x]已发货,[数字x]天到\n买家:我的电话13812345678,金额[金额x]")
    assert f"{AGENT_PREFIX}[订单x]" in tokens and f"{AGENT_PREFIX}[数字x]" in tokens
    assert "[电话x]" in tokens and "[金额x]" in tokens
    assert not any(t in {"[", "]", "x", "订单", "数字"} for t in tokens)


def test_stopwords_dropped_and_negations_kept() -> None:
    tokens = _both("商家的东西是假货吗?没有发票,也不给退,别再发了,没发票")
    assert not {"的", "是", "吗", "也", "了"} & set(tokens)
    assert {"没有", "不给退", "别", "没", "假货", "发票"} <= set(tokens)


def test_non_han_rule() -> None:
    expected = ["流量", "9.5g", "1", "2", "天到", "t", "cn", "网址", "iphone12", "pro"]
    assert _both("流量9.5G,1-2天到,t.cn网址,iPhone12 Pro") == expected


def test_punctuation_and_whitespace_are_not_tokens() -> None:
    assert _both("  ,。!?……——「」 \n\t ") == []


@pytest.mark.parametrize(
    "text",
    [
        *("不错.很好", "质量好-价格低", "好好好...差评", "100%满意", "东西_不错", "物流快&包装好", "好评+五星"),
        *(
            "a好很好b",
            "我下单的时候,客服说有货!怎么又没了?",
            "[订单x]到了吗?好的,谢谢",
            "《三体》很好看~ 推荐「大家」买",
        ),
    ],
)
def test_whole_line_cut_gives_the_tokens_of_the_run_split(text: str) -> None:
    # Characters a backend joins to Han words in one block (. - _ % & + letters) must keep a line off the one-call
    # path: cut whole, 不错.很好 gives 很/好 instead of 很好.
    cut, res = _cutter("rjieba"), _resources()
    assert _line_tokens(text, cut, res, whole=True) == _line_tokens(text, cut, res, whole=False)


def test_tokenize_is_rjieba_backend() -> None:
    text = clean("买家：我在京东自营买的东西七天无理由退货被拒")
    assert tokenize(text) == tokenize_with(text, "rjieba")


def test_shared_tokens_segment_a_single_line_text_once_and_chats_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    segmented: list[str] = []

    def counting(text: str, backend: str) -> list[str]:
        segmented.append(text)
        return tokenize_with(text, backend)

    monkeypatch.setattr(pipelines.tokenize, "tokenize_with", counting)
    review, chat = clean("快递太慢了,商家发错货"), clean("买家：快递太慢了\n客服：亲亲，帮您催一下")
    with shared_tokens():
        first = tokenize(review)
        first.append("改动")  # a caller editing its list does not change what the next caller gets
        assert tokenize(review) == tokenize_with(review, "rjieba")
        assert tokenize(chat) == tokenize(chat)
    tokenize(review)
    assert segmented == [review, chat, chat, review], "once inside the block, chats always, nothing kept after it"


def test_unknown_backend_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown tokenizer backend"):
        tokenize_with("你好", "pkuseg")  # type: ignore[arg-type]


@pytest.mark.parametrize("unit", ["不好", "啊", "最", "掉", "小", "好好很", "哈", "一", "谢谢", "好的"])
def test_backends_break_segmentation_ties_alike(unit: str) -> None:
    # Periodic text has several equally likely segmentations; which one wins depends on the last bit of
    # every log-probability, so it catches any difference between the two dictionaries' totals.
    for repeat in range(2, 25):
        _both(unit * repeat)
    _both("两小小小片肉渣渣和一坨没切的菜花")


# --- properties -------------------------------------------------------------------------------------------

_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80),  # common-ish Han
    st.sampled_from("的了不没好差退款货快递客服买家京东自营七天无理由啊最"),  # repeats make segmentation ties
    st.sampled_from("abcXYZ0123456789.-_%#+ ,，。!？:：[]x\n\t*@/"),
    st.sampled_from("😡👍❤️🙏ōé가あア㐀"),
    st.characters(),
)
_TEXTS = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=60),
    st.lists(
        st.sampled_from(["买家:", "客服：", "\n", "plus会员", "双11", "88vip", "618", "[订单x]", "不好", "啊啊"]),
        max_size=6,
    ).flatmap(lambda parts: st.text(alphabet=_ALPHABET, max_size=20).map(lambda t: t.join(parts))),
)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_backends_agree_and_never_crash(text: str) -> None:
    for candidate in (text, clean(text)):
        fast = tokenize_with(candidate, "rjieba")
        assert fast == tokenize_with(candidate, "jieba")
        assert all(tok and not tok.isspace() for tok in fast)
        assert tokenize(candidate) == fast
