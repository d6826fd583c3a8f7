"""Behavioural checks on hand-written sentences: minimum functionality, invariance, direction."""

import pandas as pd
import pytest

from tests.model.conftest import predict

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("快递员把我的包裹弄丢了，物流信息三天没更新，打电话也不接", "logistics"),
        ("我自己下单的时候拍错尺码了，想换大一号的，能换吗", "consumer"),
        ("衣服质量太差了，线头到处都是，洗一次就掉色，商家还不给退", "merchant"),
        ("平台的优惠券结算时用不了，价保申请也被驳回，客服介入一直拖着", "platform"),
        ("下单五天了商家还没发货，催了几次都说缺货", "merchant"),
        ("请问这款什么时候发货？可以开发票吗", "none"),
    ],
)
def test_clear_cases(demo_model, text: str, party: str):
    assert predict(demo_model, text) == [party]


def test_chat_where_agent_confirms_courier_loss(demo_model):
    chat = "买家：我的快递怎么还没到\n客服：亲，查询到包裹在运输途中丢失了，是快递公司的问题\n买家：那怎么办"
    assert predict(demo_model, chat) == ["logistics"]


@pytest.mark.parametrize(
    "a,b",
    [
        ("订单号 2026112512345678 的衣服质量太差，开线了", "订单号 2019010199999999 的衣服质量太差，开线了"),
        ("快递一直不送货上门，电话13812345678打不通", "快递一直不送货上门，电话15900001111打不通"),
    ],
)
def test_personal_numbers_do_not_change_the_prediction(demo_model, a: str, b: str):
    assert predict(demo_model, a) == predict(demo_model, b)


def test_negated_courier_blame_moves_away_from_logistics(demo_model):
    proba = demo_model.predict_proba
    classes = list(demo_model.classes_)
    blamed = proba(pd.DataFrame({"text": ["东西坏了，是快递暴力运输压坏的"]}))[0][classes.index("logistics")]
    cleared = proba(pd.DataFrame({"text": ["东西坏了，不是快递的问题，是商家包装太简单了"]}))[0][
        classes.index("logistics")
    ]
    assert cleared < blamed
