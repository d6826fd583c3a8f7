"""Keyword-rule baseline: the yardstick every trained model is compared with, on demo and on real data.

It counts, per party, how many of that party's obvious keywords a text contains and predicts the party
with most hits. The lists are what a reasonable person would write down in five minutes without looking
at any corpus, so that beating the baseline means the model learned context, not vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.config import PARTY_CODES

#: Obvious words per party; a text scores one point per distinct keyword it contains.
# fmt: off
KEYWORDS: dict[str, tuple[str, ...]] = {
    "merchant": (
        "质量", "假货", "正品", "发错", "少发", "漏发", "商家", "卖家", "店家", "掌柜", "做工", "破损", "坏了",
        "不发货", "发货慢", "缺货", "色差", "描述不符", "不一样", "次品", "瑕疵", "过期", "发票", "赠品",
    ),
    "platform": (
        "平台", "优惠券", "价保", "保价", "降价", "差价", "客服介入", "介入", "小二", "账号", "账户", "封号",
        "白条", "花呗", "京豆", "积分", "系统", "app", "闪退", "规则",
    ),
    "consumer": (
        "拍错", "买错", "选错", "填错", "写错", "我自己", "自己的问题", "不想要了", "不需要了", "没看清",
        "忘了", "忘记", "七天", "改地址", "取消订单",
    ),
    "logistics": (
        "快递", "物流", "配送", "快递员", "送货", "派送", "签收", "驿站", "丢件", "运输", "揽收", "顺丰", "中通",
        "圆通", "韵达", "申通", "极兔", "送货上门", "到货",
    ),
}
# fmt: on
#: Tie-break order: the most frequent party in real disputes wins a tie.
TIE_ORDER: tuple[str, ...] = ("merchant", "logistics", "platform", "consumer")
assert sorted(TIE_ORDER) == sorted(PARTY_CODES) == sorted(KEYWORDS), "baseline must cover every party"


def keyword_scores(text: str) -> dict[str, int]:
    """Number of distinct keywords of each party found in ``text`` (in tie-break order)."""
    return {party: sum(word in text for word in KEYWORDS[party]) for party in TIE_ORDER}


def predict_one(text: str) -> str:
    """The party with most keyword hits; ``none`` if no keyword occurs; ties go to the earlier party."""
    scores = keyword_scores(text)
    best = max(scores.values())
    if best == 0:
        return "none"
    return next(party for party in TIE_ORDER if scores[party] == best)


def predict_keywords(texts: Iterable[str]) -> list[str]:
    """Baseline predictions for many texts, in order."""
    return [predict_one(str(text)) for text in texts]
