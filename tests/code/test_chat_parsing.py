"""Property tests for chat parsing: one-row-per-turn tables into one text per case."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cases import to_cases
from pipelines.tables import InputError

ROLES = ["buyer", "agent", "买家", "客服", "用户", "seller", "robot"]
#: The marks a reader expects for each role (``robot`` is unknown and must be refused).
MARKS = {"buyer": "买家：", "买家": "买家：", "用户": "买家：", "agent": "客服：", "客服": "客服：", "seller": "客服："}
TEXT = st.text(alphabet=st.sampled_from(list("快递没到退款商家平台我拍错了 \n,，?？😡𠀀ab12")), max_size=12)
TURN = st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 20), st.sampled_from(ROLES), TEXT)


def turn_table(turns: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(turns, columns=["case_id", "turn", "role", "text"]).astype({"turn": str})
    return frame.assign(_file="chats.csv", _row=range(2, len(frame) + 2))


@settings(max_examples=150, deadline=None)
@given(st.lists(TURN, min_size=1, max_size=25))
def test_turn_tables_parse_deterministically_or_fail_cleanly(turns):
    frame = turn_table(turns)
    try:
        cases = to_cases(frame, need_label=False)
    except InputError as err:
        assert "chats.csv" in str(err)
        return
    assert cases.equals(to_cases(frame.copy(), need_label=False)), "parsing must be deterministic"
    by_case = cases.set_index("case_id")["text"]
    for case_id, group in frame.groupby("case_id"):
        spoken = group[group["text"].str.strip() != ""]
        if spoken.empty:
            continue
        ordered = spoken.assign(order=spoken["turn"].astype(int)).sort_values(["order", "_row"], kind="stable")
        expected = "\n".join(
            MARKS[role] + text.strip() for role, text in zip(ordered["role"], ordered["text"], strict=True)
        )
        assert by_case[case_id] == expected, "every spoken turn, in turn order, behind its speaker's mark"
