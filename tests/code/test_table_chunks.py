"""Chunked reading for scoring: the chunks of a file add up to reading it whole, in every format."""

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.tables import InputError, iter_table_chunks, read_table, sniff_encoding

ROWS = pd.DataFrame(
    {
        "案件编号": [f"{i:05d}" for i in range(7)],
        "投诉内容": [
            "快递三天没动，客服也不理",
            "拍错尺码了",
            "买家：在吗\n客服：在的",
            "",
            "商家发错货",
            "平台乱扣款",
            "=1+1",
        ],
        "金额": ["1", "2.5", "", "4", "5", "6", "7"],
    }
)


def _chunked(path: Path, rows: int, **kwargs) -> pd.DataFrame:
    chunks = list(iter_table_chunks(path, rows=rows, **kwargs))
    assert all(len(frame) <= rows for frame, _ in chunks)
    assert chunks[-1][1] == pytest.approx(1.0), "the last chunk reports the whole file read"
    return pd.concat([frame for frame, _ in chunks], ignore_index=True)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("rows", [1, 3, 100])
def test_csv_chunks_equal_the_whole_read(tmp_path: Path, encoding: str, rows: int):
    path = tmp_path / "export.csv"
    ROWS.to_csv(path, index=False, encoding=encoding)
    assert _chunked(path, rows).equals(read_table(path))


def test_parquet_batches_and_jsonl_chunks_equal_the_whole_read(tmp_path: Path):
    ROWS.to_parquet(tmp_path / "a.parquet")
    ROWS.to_json(tmp_path / "b.jsonl", orient="records", lines=True, force_ascii=False)
    for name in ("a.parquet", "b.jsonl"):
        path = tmp_path / name
        chunked = _chunked(path, 2)
        if name.endswith(".jsonl"):  # scoring's lenient reader marks lines it could not read; none here
            assert chunked.pop("_error").eq("").all()
        assert chunked.equals(read_table(path)), name
        assert chunked["_row"].tolist() == list(range(1, 8) if name.endswith(".jsonl") else range(2, 9))


def test_xlsx_streaming_matches_read_excel(tmp_path: Path):
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="说明", index=False)
        ROWS.assign(数量=range(7)).to_excel(writer, sheet_name="数据", index=False)
    chunked = _chunked(path, 3)
    whole = read_table(path)
    assert chunked.drop(columns="_file").equals(whole.drop(columns="_file"))
    assert chunked["数量"].tolist() == [str(i) for i in range(7)], "whole numbers without .0"
    assert _chunked(path, 3, sheet="数据").equals(chunked)
    with pytest.raises(InputError, match="no sheet"):
        list(iter_table_chunks(path, sheet="missing"))


def test_a_header_without_rows_gives_one_empty_chunk(tmp_path: Path):
    path = tmp_path / "empty.csv"
    path.write_text("case_id,text\n", encoding="utf-8")
    ((frame, _),) = list(iter_table_chunks(path))
    assert frame.empty and list(frame.columns) == ["case_id", "text", "_file", "_row"]


def test_broken_bytes_in_gbk_become_replacement_characters_in_their_row_only(tmp_path: Path):
    path = tmp_path / "broken.csv"
    good = ROWS.iloc[:3].to_csv(index=False).encode("gbk")
    path.write_bytes(good + b"00099,\xb7\xa2\xff\xfe\xd5\xf5,1\n" + "00100,正常的一行,2\n".encode("gbk"))
    assert sniff_encoding(path) == "gb18030"
    frame = _chunked(path, 2)
    assert len(frame) == 5
    assert "\ufffd" in frame["投诉内容"].iat[3]
    assert frame["投诉内容"].iat[4] == "正常的一行"
    assert not frame["投诉内容"].iloc[:3].str.contains("\ufffd").any()


def test_xlsx_blank_rows_keep_their_place(tmp_path: Path):
    """A blank row above the header is skipped, blank rows between cases are kept as empty rows (rows out
    equal rows in), blank rows at the end are dropped, and ``_row`` is the row a person sees in the sheet."""
    path = tmp_path / "export.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    for row in ([], ["案件编号", "投诉内容"], ["001", "快递丢件"], [], [], ["002", "商家发错货"], [], []):
        sheet.append(row)
    sheet.cell(row=20, column=1).number_format = "0"  # a formatted empty cell stretches the used range
    book.save(path)
    for frame in (_chunked(path, 2), read_table(path)):
        assert frame["投诉内容"].tolist() == ["快递丢件", "", "", "商家发错货"]
        assert frame["_row"].tolist() == [3, 4, 5, 6]


@pytest.mark.parametrize(("sep", "encoding"), [("\t", "utf-16"), (",", "utf-8")])
def test_txt_is_read_with_the_separator_its_header_uses(tmp_path: Path, sep: str, encoding: str):
    """Excel's "Unicode Text" export is a tab-separated UTF-16 .txt; other tools write comma-separated .txt."""
    path = tmp_path / "export.txt"
    ROWS.to_csv(path, index=False, sep=sep, encoding=encoding)
    for frame in (_chunked(path, 3), read_table(path)):
        assert frame["投诉内容"].tolist() == ROWS["投诉内容"].tolist()
