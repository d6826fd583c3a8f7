"""Writing scored tables: Excel formula neutralization, formats, and the all-or-nothing rename."""

from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.export import atomic_table, neutralize
from pipelines.tables import InputError

RISKY = ["=1+1", "+8613812345678", "-5元", "@SUM(A1)", "\tx", "\rx"]
FRAME = pd.DataFrame(
    {
        "text": [*RISKY, "正常 = 文本"],
        "amount": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "needs_review": [True, False, True, False, True, False, True],
    }
)


def test_neutralize_prefixes_formula_starts_only():
    out = neutralize(FRAME)
    assert out["text"].tolist() == [f"'{v}" for v in RISKY] + ["正常 = 文本"]
    assert out["amount"].tolist() == FRAME["amount"].tolist(), "numbers are not text cells"
    assert FRAME["text"].iat[0] == "=1+1", "the caller's frame is left alone"


def test_csv_has_bom_and_neutralized_cells(tmp_path: Path):
    path = tmp_path / "out.csv"
    with atomic_table(path) as writer:
        writer.write(FRAME.iloc[:3])
        writer.write(FRAME.iloc[3:])
    assert writer.rows == len(FRAME)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1, "one BOM, at the start"
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["text"].tolist() == [f"'{v}" for v in RISKY] + ["正常 = 文本"]
    assert len(back) == len(FRAME), "the header is written once"


def test_xlsx_cells_are_text_not_formulas(tmp_path: Path):
    path = tmp_path / "out.xlsx"
    with atomic_table(path) as writer:
        writer.write(FRAME)
    sheet = openpyxl.load_workbook(path).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # XML stores a carriage return as a line feed; what matters is the quote in front.
    assert [c.value for c in cells] == [f"'{v}".replace("\r", "\n") for v in RISKY] + ["正常 = 文本"]
    assert {c.data_type for c in cells} == {"s"}, "no cell may be stored as a formula"
    assert sheet.cell(row=2, column=3).value is True


def test_xlsx_says_which_texts_it_had_to_cut(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """An Excel cell holds 32,767 characters and openpyxl cuts longer texts silently."""
    path = tmp_path / "out.xlsx"
    frame = pd.DataFrame({"id": ["1", "2", "3"], "text": ["短", "长" * 40_000, "长" * 33_000]})
    with atomic_table(path) as writer:
        writer.write(frame.iloc[:1])
        writer.write(frame.iloc[1:])
    assert len(openpyxl.load_workbook(path).active.cell(row=3, column=2).value) == 32_767
    cut = "2 cell(s) longer than Excel's 32767 characters were cut, the first in row 3, column 'text'"
    assert f"{path}: {cut}" in caplog.text, "named as the result, not its temporary file"


def test_parquet_keeps_types_and_values_across_chunks(tmp_path: Path):
    path = tmp_path / "out.parquet"
    first = pd.DataFrame({"party": [None, None], "p": [0.5, float("nan")], "flag": [True, False]})
    second = pd.DataFrame({"party": ["=merchant", "logistics"], "p": [0.1, 0.2], "flag": [False, True]})
    with atomic_table(path) as writer:
        writer.write(first)
        writer.write(second)
    table = pq.read_table(path)
    assert str(table.schema.field("party").type) == "string", "an all-empty first chunk still means text"
    assert str(table.schema.field("flag").type) == "bool"
    assert table.column("party").to_pylist() == [None, None, "=merchant", "logistics"], "Parquet is unchanged"


def test_failed_write_leaves_no_file_and_keeps_the_previous_result(tmp_path: Path):
    path = tmp_path / "out.csv"
    path.write_text("previous result", encoding="utf-8")
    with pytest.raises(RuntimeError, match="crash"), atomic_table(path) as writer:
        writer.write(FRAME)
        raise RuntimeError("crash")
    assert path.read_text(encoding="utf-8") == "previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"], "no temporary file is left behind"

    with pytest.raises(RuntimeError), atomic_table(tmp_path / "new.xlsx") as writer:
        writer.write(FRAME)
        raise RuntimeError("crash")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_unknown_output_format_is_refused(tmp_path: Path):
    with pytest.raises(InputError, match=r"cannot write '\.doc'"), atomic_table(tmp_path / "out.doc"):
        pass


def test_csv_cells_of_any_python_type(tmp_path: Path):
    # An XLSX or JSON Lines export can hold numbers, lists and missing values in one column.
    frame = pd.DataFrame(
        {
            "mixed": pd.Series([[1, 2], "=sum", None, float("nan"), 3, "ok"], dtype=object),
            "flag": [True, False, True, True, False, True],
            "p": [0.25, float("nan"), 1.0, 0.5, 0.0, 1e-7],
        }
    )
    path = tmp_path / "out.csv"
    with atomic_table(path) as writer:
        writer.write(frame)
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["mixed"].tolist() == ["[1, 2]", "'=sum", "", "", "3", "ok"]
    assert back["flag"].tolist() == ["True", "False", "True", "True", "False", "True"]
    assert pd.to_numeric(back["p"].replace("", None)).tolist()[2:] == [1.0, 0.5, 0.0, 1e-7]
