"""Reading every accepted format and encoding into the same string table."""

import pickle
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.tables import InputError, read_table

ROWS = pd.DataFrame(
    {"案件编号": ["001", "002"], "投诉内容": ["快递三天没动，客服也不理", "拍错尺码了"], "责任方": ["物流", "消费者"]}
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str):
    path = tmp_path / "export.csv"
    ROWS.to_csv(path, index=False, encoding=encoding)
    frame = read_table(path)
    assert frame["投诉内容"].tolist() == ROWS["投诉内容"].tolist()
    assert frame["案件编号"].tolist() == ["001", "002"], "ids must stay strings"
    assert frame["_row"].tolist() == [2, 3]


def test_xlsx_skips_an_empty_first_sheet(tmp_path: Path):
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="说明", index=False)
        ROWS.to_excel(writer, sheet_name="数据", index=False)
    assert read_table(path)["责任方"].tolist() == ["物流", "消费者"]
    assert read_table(path, sheet="数据")["案件编号"].tolist() == ["001", "002"]


def test_jsonl_and_parquet(tmp_path: Path):
    ROWS.to_json(tmp_path / "a.jsonl", orient="records", lines=True, force_ascii=False)
    ROWS.to_parquet(tmp_path / "b.parquet")
    for name in ("a.jsonl", "b.parquet"):
        frame = read_table(tmp_path / name)
        assert frame.drop(columns=["_file", "_row"]).equals(ROWS), name
        assert set(frame["_file"]) == {str(tmp_path / name)}


def test_quoted_newlines_and_crlf_stay_in_one_cell(tmp_path: Path):
    path = tmp_path / "chat.csv"
    path.write_bytes('case_id,text,label\r\n1,"买家：在吗\r\n客服：在的",none\r\n'.encode())
    frame = read_table(path)
    assert len(frame) == 1
    assert "客服" in frame["text"].iat[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("bad.parquet", b"PAR1\x00\x01", "Parquet"),
        ("bad.xlsx", b"PK\x03\x04broken", "XLSX"),
        ("notes.doc", b"hello", "unsupported"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path: Path, name: str, content: bytes, message: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_table(path)
    assert str(path) in str(err.value)


def test_an_input_error_keeps_its_parts_across_processes():
    error = pickle.loads(pickle.dumps(InputError(Path("a.csv"), "bad cell", row=3, column="text")))
    assert (error.file, error.message, error.row, error.column) == ("a.csv", "bad cell", 3, "text")
    assert str(error) == "a.csv, row 3, column 'text': bad cell"


def test_numbers_in_jsonl_and_parquet_keep_their_digits(tmp_path: Path):
    """pandas turns an integer column with a gap into floats: 20260100123 → 20260100123.0, and
    9007199254740993 → 9007199254740992.0. Ids must come out as they were written."""
    ids = [20260100123, None, 9007199254740993]
    pa_table = pa.table({"case_id": pa.array(ids, pa.int64()), "text": ["快递丢件", "发错货", "乱扣款"]})
    pq.write_table(pa_table, tmp_path / "a.parquet")
    lines = ['{"case_id": 20260100123, "text": "快递丢件", "amount": 12.50}', '{"text": "发错货"}']
    lines.append('{"case_id": 9007199254740993, "text": "乱扣款"}')
    (tmp_path / "b.jsonl").write_text("\n".join(lines), encoding="utf-8")
    expected = ["20260100123", "", "9007199254740993"]
    assert read_table(tmp_path / "a.parquet")["case_id"].tolist() == expected
    jsonl = read_table(tmp_path / "b.jsonl")
    assert jsonl["case_id"].tolist() == expected
    assert jsonl["amount"].tolist() == ["12.50", "", ""]


def test_jsonl_with_bom_blank_lines_and_a_json_array(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text('{"text": "快递丢件"}\n\n{"text": "发错货"}\n', encoding="utf-8-sig")
    frame = read_table(tmp_path / "a.jsonl")
    assert frame["text"].tolist() == ["快递丢件", "发错货"]
    assert frame["_row"].tolist() == [1, 3], "a JSON Lines row is its line"
    (tmp_path / "b.json").write_text('[{"text": "快递丢件"},\n {"text": "发错货"}]', encoding="utf-8")
    assert read_table(tmp_path / "b.json")["text"].tolist() == ["快递丢件", "发错货"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "a"}\n{"text": "b",}\n', "line 2 is not valid JSON"),
        (b'{"text": "a"}\n{"text": "b"\n{"text": "c"}\n', "line 2 is not valid JSON"),  # unterminated
        (b'{"text": "a"}\n["b"]\n', "line 2 is not a JSON object"),
        (b'{"text": "a"}\n{"text": "\xff"}\n', "line 2 is not UTF-8"),
        (b"\n\n", "holds no JSON records"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "a.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_table(path)
    assert caught.value.file == str(path)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", ["快递员把包裹扔在门口结果丢了商家和平台都不管", "我要退货商家不同意平台客服也不处理"])
def test_utf16_without_bom_is_told_by_its_separators_even_in_long_chinese_rows(
    tmp_path: Path, encoding: str, text: str
):
    """Long Chinese rows hold few NUL bytes, and 退 (U+9000) holds one on the wrong side: counting NULs read
    such files as GB18030 mojibake (30 rows became 3,030) or as the wrong byte order."""
    rows = pd.DataFrame({"case_id": [f"C{i}" for i in range(30)], "text": [text * 100] * 30})
    path = tmp_path / "export.csv"
    rows.to_csv(path, index=False, encoding=encoding)
    assert read_table(path)["text"].tolist() == rows["text"].tolist()


def test_nul_padding_in_utf8_is_not_taken_for_utf16(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_bytes("case_id,text\n1,快递丢件\n2,发错货\n".encode() + b"\x00" * 64)
    assert read_table(path)["text"].tolist() == ["快递丢件", "发错货"]


def test_nested_json_values_stay_json(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "发错货", "meta": {"店铺": "旗舰店"}, "tags": ["退货", 1]}\n', encoding="utf-8")
    frame = read_table(path)
    assert frame[["meta", "tags"]].iloc[0].tolist() == ['{"店铺": "旗舰店"}', '["退货", 1]']


def test_a_folder_skips_lock_and_hidden_files_and_names_the_subfolders_it_does_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    from pipelines.tables import table_files

    (tmp_path / "b.csv").write_text("case_id,text\n1,x\n", encoding="utf-8")
    (tmp_path / "a.xlsx").write_bytes(b"PK")
    (tmp_path / "~$a.xlsx").write_bytes(b"\x0bAnalyst   ")  # Excel's lock file while a.xlsx is open
    (tmp_path / "._b.csv").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork on a shared drive
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    (tmp_path / "2026-10").mkdir()
    (tmp_path / ".git").mkdir()
    with caplog.at_level("WARNING"):
        assert [p.name for p in table_files(tmp_path)] == ["a.xlsx", "b.csv"]
    assert "subfolders not read: 2026-10" in caplog.text and ".git" not in caplog.text
