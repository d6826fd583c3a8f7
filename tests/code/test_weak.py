"""Labeling functions, their table and the label model, on small hand-written cases."""

import numpy as np
import pytest

from pipelines.config import LABELS
from pipelines.fewlabel import FewLabelSettings, demo_weights, mean_proba, top_per_class
from pipelines.weak import (
    ABSTAIN,
    LABELING_FUNCTIONS,
    LF_NAMES,
    LabelModel,
    apply_lfs,
    genre_of,
    lf_table,
    views_of,
)

LF = {lf.name: lf for lf in LABELING_FUNCTIONS}


def fired(text: str) -> dict[str, str]:
    """The LFs that vote on ``text``, with their label."""
    votes = apply_lfs([text])[0]
    return {name: LABELS[v] for name, v in zip(LF_NAMES, votes, strict=True) if v != ABSTAIN}


def test_genre_and_views_split_chat_roles():
    chat = "买家：我的快递还没到\n客服：亲，已为您催促配送\n买家：好的"
    assert genre_of(chat) == "chat"
    assert genre_of("用户询问发票怎么开。") == "summary"
    assert genre_of("商家询问圆通的电子面单为何不能出库。") == "summary"  # a seller's enquiry
    assert genre_of("商家发货太慢了") == "review"
    assert genre_of("标题\n正文") == "complaint"
    assert genre_of("质量太差了") == "review"
    views = views_of(chat)
    assert views.buyer == "我的快递还没到\n好的"
    assert views.agent == "亲，已为您催促配送"


@pytest.mark.parametrize(
    ("text", "lf", "label"),
    [
        ("物流太慢了，等了一个星期才到", "g_slow", "logistics"),
        ("我自己拍错尺码了，想换一个", "c_own", "consumer"),
        ("刚买完就降价了，价保也不给", "p_price", "platform"),
        ("质量太差，用了两天就坏了", "m_quality", "merchant"),
        ("买家：什么时候发货\n客服：您好，该商品目前缺货，采购中", "m_ship_agent", "merchant"),
        ("买家：请问发票怎么开\n客服：您好，在订单详情里申请即可", "n_routine", "none"),
        ("买家：地址写错了\n客服：已为您修改地址", "c_agent_cancel", "consumer"),
        ("用户询问如何绑定京东E卡。", "s_routine", "none"),
        ("用户反映登录失败，收不到验证码。", "s_platform_fail", "platform"),
        ("用户反映物流信息三天未更新，询问快递信息。", "s_transit", "logistics"),
        ("用户表示买的商品缺货，询问多久能有货。", "s_stock", "merchant"),
        ("用户表示发票信息填写错误，要求重新开发票。", "c_own_change", "consumer"),
        ("买家：我明天不在家，能改后天送吗\n客服：好的，帮您备注", "c_own_change", "consumer"),
        ("买家：房子没装修好，帮我改下发货时间吧", "c_own_change", "consumer"),
        ("买家：我的电话变为新号码了", "c_own_change", "consumer"),
        ("买家：取消这个订单", "c_own", "consumer"),
        ("买家：什么时候能到\n客服：预计明天送达", "g_when", "logistics"),
        ("买家：什么时候发货\n客服：您的商品正在调货中，预计三天内有货", "m_ship_agent", "merchant"),
        ("买家：手机充不上电了", "m_quality_chat", "merchant"),
        ("用户询问维修费用怎么算。", "m_aftersales", "merchant"),
        ("用户表示买了六包糖但只收到了五包。", "m_wrong_item", "merchant"),
        ("买家：说给我十元的券，只收到五元", "p_fail_chat", "platform"),
        ("买家：降价了为什么不给价保", "p_price_dispute", "platform"),
        ("买家：请开发票", "n_invoice", "none"),
        ("买家：客户申请换货，后台怎么处理\n客服：尊敬的商家朋友，您好", "n_seller_side", "none"),
    ],
)
def test_labeling_function_votes(text: str, lf: str, label: str):
    assert fired(text).get(lf) == label


def test_unless_and_genre_restrictions_abstain():
    assert "g_slow" not in fired("商家发货太慢了，一个星期都没发货")  # dispatch is the merchant's, not transit
    assert "m_quality" not in fired("买家：质量太差\n客服：抱歉")  # the review-genre LF stays out of chats
    assert "n_routine" not in fired("买家：请问怎么还没到，能不能催一下")  # a question with a problem is no routine
    assert "p_mechanics" not in fired("我的[站点x]在哪")  # placeholders are blanked, so [站点x] is no 站点
    assert "s_routine" not in fired("用户询问订单为什么还没送到。")  # a question about a problem is no routine
    assert "s_routine" not in fired("买家：请问发票怎么开")  # summary rules stay out of chats
    assert "s_transit" not in fired("用户表示买错了想取消，询问快递是否还会派送。")  # the buyer's own change
    assert "c_own_change" not in fired("用户反映商家发错货，要求换货并修改发票。")  # the seller's mistake
    assert "p_mechanics" not in fired("买家：没收到货，系统显示已签收")  # a signed-for parcel is the courier's
    assert "g_when" not in fired("买家：什么时候发货，明天能到吗")  # dispatch is the seller's
    assert "m_seller" not in fired("用户询问维修费用怎么算。")  # a summary's bare after-sales word is no refusal
    assert "m_quality_chat" not in fired("买家：这款保修几年")  # a warranty question is no defect


def test_lf_table_counts_coverage_conflict_accuracy():
    votes = np.array([[0, ABSTAIN], [0, 3], [ABSTAIN, 3], [ABSTAIN, ABSTAIN]], dtype=np.int8)
    table = lf_table(votes, ["merchant", "logistics", "logistics", "none"], lfs=[LF["m_quality"], LF["g_slow"]])
    first, second = table.iloc[0], table.iloc[1]
    assert (first["fired"], first["coverage"], first["conflict_rate"], first["accuracy"]) == (2, 0.5, 0.5, 0.5)
    assert (second["fired"], second["coverage"], second["conflict_rate"], second["accuracy"]) == (2, 0.5, 0.5, 1.0)


def test_label_model_learns_which_lf_to_trust():
    # LF 0 votes merchant and is right; LF 1 votes platform but its cases are really consumer.
    votes = np.array([[0, ABSTAIN]] * 10 + [[ABSTAIN, 1]] * 10, dtype=np.int8)
    labels = ["merchant"] * 10 + ["consumer"] * 10
    model = LabelModel().fit(votes, labels)
    label, confidence = model.predict(np.array([[0, ABSTAIN], [ABSTAIN, 1], [ABSTAIN, ABSTAIN]], dtype=np.int8))
    assert list(label) == ["merchant", "consumer", ""]
    assert confidence[0] > 0.5 and confidence[1] > 0.5 and confidence[2] == 0.0


def test_top_per_class_balances_and_thresholds():
    labels = np.array(["merchant"] * 5 + ["platform"] * 2 + [""], dtype=object)
    confidence = np.array([0.99, 0.98, 0.97, 0.96, 0.5, 0.9, 0.7, 1.0])
    assert list(top_per_class(labels, confidence, threshold=0.8, per_class=2)) == [0, 1, 5]


def test_demo_weights_follow_the_genre_read_from_the_text():
    texts = ["买家：怎么还没到\n客服：帮您催一下", "用户询问能否开发票。", "质量太差了", "标题\n内容"]
    plain = FewLabelSettings(demo_weight=0.3)
    assert list(demo_weights(texts, plain)) == [0.3] * 4
    by_genre = FewLabelSettings(demo_weight=0.3, demo_genre_weights={"chat": 2.0, "summary": 1.5})
    assert list(demo_weights(texts, by_genre)) == [2.0, 1.5, 0.3, 0.3]


class _Fixed:
    """A fitted-classifier stand-in: fixed probabilities over its own classes."""

    def __init__(self, classes: list[str], proba: list[list[float]]):
        self.classes_, self.proba = np.array(classes, dtype=object), np.array(proba)

    def predict_proba(self, x):
        return self.proba


def test_mean_proba_aligns_classes_by_name():
    classes = np.array(["consumer", "merchant", "none"], dtype=object)
    full = _Fixed(["consumer", "merchant", "none"], [[0.2, 0.6, 0.2]])
    partial = _Fixed(["merchant", "none"], [[0.0, 1.0]])  # never saw consumer
    assert mean_proba([(full, np.zeros((1, 2))), (partial, np.zeros((1, 3)))], classes).tolist() == [[0.1, 0.3, 0.6]]


def test_teacher_settings_read_from_params_and_off_by_default():
    assert FewLabelSettings.from_params({}).teacher_weight == 0.0
    settings = FewLabelSettings.from_params(
        {"fewlabel": {"teacher_weight": 1.0, "teacher_genres": ["chat", "summary"]}}
    )
    assert settings.teacher_genres == ("chat", "summary") and settings.teacher_weight == 1.0
