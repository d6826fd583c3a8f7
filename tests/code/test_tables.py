"""Reading every accepted format and encoding into the same string table."""

import pickle
from pathlib import Path

import pandas as pd
import pytest

from pipelines.tables import InputError, read_table, read_tables

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
    both = read_tables(tmp_path)
    assert len(both) == 4
    assert set(both["_file"]) == {str(tmp_path / "a.jsonl"), str(tmp_path / "b.parquet")}


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
