"""Bad training input, table-driven: each file either loads intact or fails naming file, row and column.

Training is strict (a model must not learn from rows it could not read), so every whole-file problem
and every bad row is an :class:`InputError`; scoring's half of the table is in test_bad_input_scoring.py.
"""

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipelines.tables import InputError
from pipelines.text import clean
from pipelines.train import load_labeled

HEADER = "case_id,text,label\n"
GOOD = [
    ("1", "快递三天没更新，包裹丢了", "物流"),
    ("2", "我自己拍错尺码了", "消费者"),
    ("3", "衣服质量差还掉色", "商家"),
]


def csv_text(rows=GOOD, header: str = HEADER) -> str:
    return header + "".join(f"{i},{t},{lab}\n" for i, t, lab in rows)


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def excel(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


GOOD_FRAME = pd.DataFrame(GOOD, columns=["case_id", "text", "label"])

#: name → (make the input in a folder, expected texts when it loads, or the error fragments when it fails)
CASES: dict[str, tuple[Callable[[Path], Path], list[str] | None, tuple[str, ...]]] = {
    "empty file": (lambda d: write(d / "a.csv", b""), None, ("a.csv", "empty")),
    "header only": (lambda d: write(d / "a.csv", HEADER), None, ("a.csv", "no rows")),
    "missing text column": (lambda d: write(d / "a.csv", "case_id,label\n1,物流\n"), None, ("missing column", "text")),
    "all-empty texts": (
        lambda d: write(d / "a.csv", csv_text([("1", " ", "物流"), ("2", "", "商家")])),
        None,
        ("row 2", "column 'text'", "empty text"),
    ),
    "unknown label": (
        lambda d: write(d / "a.csv", csv_text([*GOOD, ("4", "还行", "快递公司")])),
        None,
        ("row 5", "column 'label'", "快递公司"),
    ),
    "conflicting duplicate ids": (
        lambda d: write(d / "a.csv", csv_text([*GOOD, ("1", "丢件了", "商家")])),
        None,
        ("case id '1'", "column 'label'"),
    ),
    "GBK": (lambda d: write(d / "a.csv", csv_text(), "gbk"), [t for _, t, _ in GOOD], ()),
    "GB18030": (
        lambda d: write(d / "a.csv", csv_text([("1", "䶮字和𠀀字的快递慢", "物流")]), "gb18030"),
        ["䶮字和𠀀字的快递慢"],
        (),
    ),
    "UTF-16": (lambda d: write(d / "a.csv", csv_text(), "utf-16"), [t for _, t, _ in GOOD], ()),
    "BOM": (lambda d: write(d / "a.csv", csv_text(), "utf-8-sig"), [t for _, t, _ in GOOD], ()),
    "NUL bytes": (
        lambda d: write(d / "a.csv", csv_text().replace("丢了", "丢\x00了")),
        ["快递三天没更新，包裹丢了", *[t for _, t, _ in GOOD[1:]]],
        (),
    ),
    "CRLF and quoted newlines": (
        lambda d: write(d / "a.csv", 'case_id,text,label\r\n1,"买家：在吗\r\n客服：在的",无\r\n'),
        ["买家：在吗\r\n客服：在的"],  # kept as exported; cleaning turns every line break into "\n"
        (),
    ),
    "1 MB text": (
        lambda d: write(d / "a.csv", csv_text([("1", "快递慢" * 120_000, "物流")])),
        ["快递慢" * 120_000],
        (),
    ),
    "emoji, rare CJK, traditional": (
        lambda d: write(d / "a.csv", csv_text([("1", "物流太慢😡𠀀𪚥貨還沒到", "物流")])),
        ["物流太慢😡𠀀𪚥貨還沒到"],
        (),
    ),
    "English and numbers only": (
        lambda d: write(d / "a.csv", csv_text([("1", "parcel lost", "物流"), ("2", "123456", "无")])),
        ["parcel lost", "123456"],
        (),
    ),
    "XLSX with an empty first sheet": (
        lambda d: excel(d / "a.xlsx", {"说明": pd.DataFrame(), "数据": GOOD_FRAME}),
        [t for _, t, _ in GOOD],
        (),
    ),
    "XLSX with several sheets, named": (
        lambda d: excel(d / "a.xlsx", {"x": GOOD_FRAME.head(1), "y": GOOD_FRAME}),
        [GOOD[0][1]],
        (),
    ),
    "truncated Parquet": (lambda d: write(d / "a.parquet", _truncated_parquet(d)), None, ("a.parquet", "Parquet")),
    "truncated XLSX": (
        lambda d: write(d / "a.xlsx", excel(d / "full.xlsx", {"s": GOOD_FRAME}).read_bytes()[:300]),
        None,
        ("a.xlsx", "XLSX"),
    ),
    "directory with one bad file": (lambda d: _folder_with_bad_file(d), None, ("b.csv", "empty")),
    "a separator in an unquoted cell": (
        lambda d: write(d / "a.csv", csv_text([*GOOD[:2], ("3", "衣服质量差,还掉色", "商家")])),
        None,
        ("a.csv, row 4", "4 cells where the header has 3", "quoted"),
    ),
    "a quote that never closes": (
        lambda d: write(d / "a.csv", csv_text([GOOD[0], ("2", '"我自己拍错尺码了', "消费者"), GOOD[2]])),
        None,
        ("a.csv, row 3", "never closes"),
    ),
}


def _truncated_parquet(folder: Path) -> bytes:
    GOOD_FRAME.to_parquet(folder / "full.parquet")
    return (folder / "full.parquet").read_bytes()[:200]


def _folder_with_bad_file(folder: Path) -> Path:
    exports = folder / "exports"
    exports.mkdir()
    write(exports / "a.csv", csv_text())
    write(exports / "b.csv", b"")
    return exports


@pytest.mark.parametrize("name", list(CASES))
def test_bad_training_input(tmp_path: Path, name: str):
    make, texts, fragments = CASES[name]
    path = make(tmp_path)
    if texts is None:
        with pytest.raises(InputError) as err:
            load_labeled(path)
        for fragment in fragments:
            assert fragment in str(err.value), f"{name}: {err.value}"
    else:
        cases = load_labeled(path)
        assert cases["text"].tolist() == texts, name
        assert cases["case_id"].is_unique


def test_undecodable_bytes_name_the_row(tmp_path: Path):
    raw = csv_text().encode("utf-8") + b"4,\xff\xfe\xfa\xfb broken,\xe5\x95\x86\xe5\xae\xb6\n"
    with pytest.raises(InputError) as err:
        load_labeled(write(tmp_path / "a.csv", raw))
    assert "a.csv" in str(err.value) and "row 5" in str(err.value), str(err.value)


def test_crlf_inside_a_cell_is_cleaned_to_newline():
    assert clean("买家：在吗\r\n客服：在的") == clean("买家：在吗\n客服：在的")


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("gb18030", 6),  # GBK file with one row of bytes GB18030 cannot decode either
        ("quoted", 7),  # a quoted line break before the bad row moves the line, not the row
    ],
)
def test_undecodable_bytes_in_gbk_name_the_row(tmp_path: Path, raw: str, line: int):
    rows = [*GOOD, ("4", "多行\n备注" if raw == "quoted" else "备注", "商家")]
    body = "".join(f'{i},"{t}",{lab}\n' for i, t, lab in rows)
    data = (HEADER + body).encode("gbk") + b"9,\x80\xff,\xc9\xcc\xbc\xd2\n"
    with pytest.raises(InputError) as err:
        load_labeled(write(tmp_path / "a.csv", data))
    message = str(err.value)
    assert err.value.row == 6 and f"line {line}" in message and "gb18030" in message and "a.csv" in message, message
