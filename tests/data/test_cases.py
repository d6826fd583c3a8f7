"""Schema and contract checks: aliases, chat formats, and errors that name file, row and column."""

from pathlib import Path

import pandas as pd
import pytest

from pipelines.cases import read_cases, to_cases
from pipelines.tables import InputError


def table(rows: dict, file: str = "export.csv") -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    return frame.assign(_file=file, _row=range(2, len(frame) + 2))


def test_chinese_headers_and_labels_are_mapped():
    cases = to_cases(
        table({"案件编号": ["a", "b"], "投诉内容": ["发错货了", "快递丢件"], "责任方": ["商家", "物流"]}),
        need_label=True,
    )
    assert cases["label"].tolist() == ["merchant", "logistics"]
    assert cases["case_id"].tolist() == ["a", "b"]


def test_chat_turn_rows_become_one_text_with_speaker_marks():
    frame = table(
        {
            "case_id": ["c1", "c1", "c2", "c1"],
            "turn": ["1", "0", "0", "2"],
            "role": ["agent", "buyer", "buyer", "buyer"],
            "text": ["您好，已为您查询", "快递一周没到", "能开发票吗", "好的"],
            "label": ["logistics", "logistics", "none", "logistics"],
        }
    )
    cases = to_cases(frame, need_label=True).set_index("case_id")
    assert cases.loc["c1", "text"] == "买家：快递一周没到\n客服：您好，已为您查询\n买家：好的"
    assert cases.loc["c2", "label"] == "none"


def test_extra_label_needs_to_be_allowed():
    frame = table({"id": ["1", "2"], "text": ["好评", "坏了"], "label": ["spam", "merchant"]})
    with pytest.raises(InputError, match="spam") as err:
        to_cases(frame, need_label=True)
    assert "row 2" in str(err.value) and "column 'label'" in str(err.value)
    assert set(to_cases(frame, need_label=True, allow_labels=["spam"])["label"]) == {"spam", "merchant"}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ({"id": ["1"], "label": ["merchant"]}, "missing column"),
        ({"id": ["1", "2"], "text": ["快递慢", "  "], "label": ["物流", "商家"]}, "row 3, column 'text': empty text"),
        ({"id": ["1", "2"], "text": ["快递慢", "好"], "label": ["物流", ""]}, "row 3, column 'label'"),
        ({"id": ["7", "7"], "text": ["快递慢", "快递慢啊"], "label": ["物流", "商家"]}, "case id '7'"),
    ],
)
def test_bad_training_input_is_named(rows: dict, expected: str):
    with pytest.raises(InputError, match=r"export\.csv") as err:
        to_cases(table(rows), need_label=True)
    assert expected in str(err.value)


def test_header_only_table_is_refused():
    with pytest.raises(InputError, match="no rows"):
        to_cases(table({"id": [], "text": [], "label": []}), need_label=True)


def test_explicit_column_names_override_aliases():
    frame = table({"工单": ["1"], "正文": ["物流太慢"], "判定": ["物流"]})
    cases = to_cases(frame, need_label=True, id_col="工单", text_col="正文", label_col="判定")
    assert cases[["case_id", "text", "label"]].iloc[0].tolist() == ["1", "物流太慢", "logistics"]


def test_secondary_label_is_mapped_and_optional():
    frame = table(
        {
            "id": ["1", "2", "3"],
            "text": ["坏了，快递也慢", "好", "发错货"],
            "label": ["商家", "无", "merchant"],
            "次要责任方": ["物流", "", "商家"],
        }
    )
    cases = to_cases(frame, need_label=True)
    # A secondary label repeating the case's own label adds nothing: it is dropped.
    assert cases["secondary"].tolist() == ["logistics", "", ""]


def test_secondary_label_of_a_chat_comes_from_its_turns():
    frame = table(
        {
            "case_id": ["c1", "c1"],
            "role": ["buyer", "agent"],
            "text": ["东西坏了，快递还慢", "抱歉"],
            "label": ["merchant", "merchant"],
            "secondary": ["", "logistics"],
        }
    )
    assert to_cases(frame, need_label=True)["secondary"].tolist() == ["logistics"]


def test_unknown_secondary_label_is_named():
    frame = table({"id": ["1", "2"], "text": ["快递慢", "坏了"], "label": ["物流", "商家"], "secondary": ["", "maybe"]})
    with pytest.raises(InputError, match=r"export\.csv") as err:
        to_cases(frame, need_label=True)
    assert "row 3, column 'secondary'" in str(err.value) and "maybe" in str(err.value)


def test_a_folder_mixes_headers_and_chat_turns(tmp_path: Path):
    """Each file of a folder is read on its own terms: matched by name across files, one file's
    ``投诉内容`` would sit beside another's ``text`` and a flat file would be taken for chat turns."""
    pd.DataFrame({"案件编号": ["a"], "投诉内容": ["快递丢件"], "责任方": ["物流"], "渠道": ["京东"]}).to_csv(
        tmp_path / "a.csv", index=False, encoding="gbk"
    )
    turns = {"case_id": ["c", "c"], "turn": ["1", "2"], "role": ["买家", "客服"], "text": ["发错货了", "抱歉"]}
    pd.DataFrame(turns | {"label": ["商家", "商家"]}).to_excel(tmp_path / "b.xlsx", index=False)
    pd.DataFrame({"id": ["d"], "content": ["拍错尺码了"], "label": ["consumer"]}).to_json(
        tmp_path / "c.jsonl", orient="records", lines=True, force_ascii=False
    )
    cases = read_cases(tmp_path, need_label=True)
    assert cases[["case_id", "text", "label"]].values.tolist() == [
        ["a", "快递丢件", "logistics"],
        ["c", "买家：发错货了\n客服：抱歉", "merchant"],
        ["d", "拍错尺码了", "consumer"],
    ]
    assert cases["渠道"].tolist() == ["京东", "", ""], "a column one file lacks is empty in its rows"


def test_conflicting_labels_across_the_files_of_a_folder_are_named(tmp_path: Path):
    pd.DataFrame({"id": ["a"], "text": ["快递丢件"], "label": ["物流"]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"id": ["a"], "text": ["快递丢件"], "label": ["商家"]}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputError, match="case id 'a' appears in rows"):
        read_cases(tmp_path, need_label=True)


def test_blank_spreadsheet_rows_are_no_cases_but_half_filled_ones_are_refused(tmp_path: Path):
    rows = [["001", "快递丢件", "物流"], ["", "", ""], ["002", "发错货", "商家"], ["", "", ""]]
    frame = pd.DataFrame(rows, columns=["案件编号", "投诉内容", "责任方"])
    frame.to_excel(tmp_path / "labeled.xlsx", index=False)
    assert read_cases(tmp_path / "labeled.xlsx", need_label=True)["case_id"].tolist() == ["001", "002"]
    frame.iloc[1, 1] = "还没标"  # a text without a label is a mistake to show, not a blank row
    frame.to_excel(tmp_path / "labeled.xlsx", index=False)
    with pytest.raises(InputError, match=r"row 3, column '责任方'"):
        read_cases(tmp_path / "labeled.xlsx", need_label=True)


def test_unlabeled_exports_use_the_column_options_where_the_header_exists(tmp_path: Path):
    from pipelines.realdata import load_unlabeled

    folder = tmp_path / "unlabeled"
    folder.mkdir()
    (folder / "a.csv").write_text("工单,买家留言,备注\nu1,快递三天没到,x\nu2,发错颜色了,y\n", encoding="utf-8")
    (folder / "b.csv").write_text("case_id,text\nu3,客服不回消息\n", encoding="utf-8")
    pool = load_unlabeled([folder], id_col="工单", text_col="买家留言")
    assert pool.texts == ("快递三天没到", "发错颜色了", "客服不回消息")
    assert pool.sources == (str(folder),)


def test_unlabeled_texts_need_no_case_id_and_skip_empty_rows(tmp_path: Path):
    from pipelines.cases import unlabeled_texts

    export = tmp_path / "complaints.csv"
    export.write_text("投诉内容\n商品有划痕\n\n   \n退款一直没到账\n", encoding="utf-8")
    assert unlabeled_texts(export) == ["商品有划痕", "退款一直没到账"]


def test_unlabeled_chat_turns_still_need_a_case_id_to_be_joined(tmp_path: Path):
    from pipelines.cases import unlabeled_texts

    export = tmp_path / "turns.csv"
    export.write_text("role,text\nbuyer,快递没到\nagent,已催促\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"turns\.csv.*missing column\(s\) case_id.*'role' makes its rows chat turns"):
        unlabeled_texts(export)


def test_unlabeled_chat_turns_without_a_case_id_are_skipped_not_merged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    from pipelines.cases import unlabeled_texts

    export = tmp_path / "turns.csv"
    export.write_text(
        "会话id,role,text\ns1,buyer,快递没到\n,buyer,我要退货\ns1,agent,已催促\n ,agent,好的亲\n", encoding="utf-8"
    )
    with caplog.at_level("INFO"):
        assert unlabeled_texts(export) == ["买家：快递没到\n客服：已催促"]
    assert "2 unlabeled chat turn(s) without a case id skipped (column '会话id', rows [3, 5])" in caplog.text


def test_a_named_text_column_missing_from_an_unlabeled_file_without_aliases_is_refused(tmp_path: Path):
    from pipelines.cases import unlabeled_texts

    export = tmp_path / "other.csv"
    export.write_text("编号,留言\n1,快递没到\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"other\.csv.*missing column\(s\) text.*--text-col apply where it has"):
        unlabeled_texts(export, text_col="买家留言")


def test_unlabeled_workbooks_use_the_sheet_option_where_they_have_that_sheet(tmp_path: Path):
    from pipelines.realdata import load_unlabeled

    with pd.ExcelWriter(tmp_path / "with_cover.xlsx") as writer:
        pd.DataFrame({"导出说明": ["本表由系统导出"]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame({"投诉内容": ["快递三天没到"]}).to_excel(writer, sheet_name="数据", index=False)
    with pd.ExcelWriter(tmp_path / "plain.xlsx") as writer:
        pd.DataFrame({"投诉内容": ["发错颜色了"]}).to_excel(writer, sheet_name="Sheet1", index=False)
    assert load_unlabeled([tmp_path], sheet="数据").texts == ("发错颜色了", "快递三天没到")
    with pytest.raises(InputError, match=r"with_cover\.xlsx.*missing column\(s\) text.*--sheet"):
        load_unlabeled([tmp_path])
