"""Bad scoring input, table-driven: every case either stops with an error naming the file, or comes out
with exactly its input rows, in order, and ``score_error`` set on exactly the rows that could not be scored.

Scoring is lenient where training is strict: one damaged row must not stop a nightly job, so it is marked
instead. A whole-file problem (unreadable, no text column) stops that file. In a folder the good files are
still scored and written, and the bad ones are named in the error at the end (exit code 2 in the CLI).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipelines.score import UNDECODABLE, score
from pipelines.tables import NOT_JSON, InputError
from tests.data.test_bad_input_training import GOOD, GOOD_FRAME, HEADER, csv_text, excel, write

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("trained_store")]
TEXTS = [t for _, t, _ in GOOD]


def _folder_with_bad_file(folder: Path) -> Path:
    exports = folder / "exports"
    exports.mkdir()
    write(exports / "a.csv", csv_text())
    write(exports / "b.csv", b"")
    write(exports / "c.csv", csv_text(GOOD[:2]))
    return exports


def _truncated(folder: Path, suffix: str) -> Path:
    full = folder / f"full{suffix}"
    if suffix == ".parquet":
        GOOD_FRAME.to_parquet(full)
    else:
        excel(full, {"s": GOOD_FRAME})
    return write(folder / f"a{suffix}", full.read_bytes()[: 200 if suffix == ".parquet" else 300])


#: An outcome: the error fragments for a whole-file error, or (texts out, row index → score_error).
Scored = tuple[list[str], dict[int, str]]
CASES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...] | Scored]] = {
    "empty file": (lambda d: write(d / "a.csv", b""), ("a.csv", "empty")),
    "header only": (lambda d: write(d / "a.csv", HEADER), ([], {})),  # nothing to score: a header-only result
    "missing text column": (lambda d: write(d / "a.csv", "case_id,label\n1,物流\n"), ("a.csv", "text")),
    "a separator in an unquoted cell": (
        lambda d: write(d / "a.csv", csv_text([*GOOD[:2], ("3", "衣服质量差,还掉色", "商家")])),
        ("a.csv, row 4", "4 cells where the header has 3"),
    ),
    "a quote that never closes": (
        lambda d: write(d / "a.csv", csv_text([GOOD[0], ("2", '"我自己拍错尺码了', "消费者"), GOOD[2]])),
        ("a.csv, row 3", "never closes"),
    ),
    "all-empty texts": (
        lambda d: write(d / "a.csv", csv_text([("1", " ", "物流"), ("2", "", "商家")])),
        ([" ", ""], {0: "empty text", 1: "empty text"}),
    ),
    "unknown label": (
        lambda d: write(d / "a.csv", csv_text([*GOOD, ("4", "还行", "快递公司")])),
        ([*TEXTS, "还行"], {}),
    ),
    "conflicting duplicate ids": (
        lambda d: write(d / "a.csv", csv_text([*GOOD, ("1", "丢件了", "商家")])),
        ([*TEXTS, "丢件了"], {}),
    ),
    "GBK": (lambda d: write(d / "a.csv", csv_text(), "gbk"), (TEXTS, {})),
    "GB18030": (
        lambda d: write(d / "a.csv", csv_text([("1", "䶮字和𠀀字的快递慢", "物流")]), "gb18030"),
        (["䶮字和𠀀字的快递慢"], {}),
    ),
    "UTF-16": (lambda d: write(d / "a.csv", csv_text(), "utf-16"), (TEXTS, {})),
    "BOM": (lambda d: write(d / "a.csv", csv_text(), "utf-8-sig"), (TEXTS, {})),
    "undecodable bytes in one row": (
        lambda d: write(d / "a.csv", csv_text().encode() + b"4,\xff\xfe\xfa broken,x\n" + b"5,\xe5\xbf\xab,y\n"),
        ([*TEXTS, "\ufffd\ufffd\ufffd broken", "快"], {3: UNDECODABLE}),
    ),
    "mixed UTF-8 and GBK rows": (
        lambda d: write(d / "a.csv", csv_text().encode() + "4,丢件,x\n".encode("gbk")),
        None,  # filled in below: the GBK row is the one marked
    ),
    "NUL bytes": (
        lambda d: write(d / "a.csv", csv_text().replace("丢了", "丢\x00了")),
        (TEXTS, {}),
    ),
    "CRLF and quoted newlines": (
        lambda d: write(d / "a.csv", 'case_id,text,label\r\n1,"买家：在吗\r\n客服：在的",无\r\n2,好,无\r\n'),
        (["买家：在吗\r\n客服：在的", "好"], {}),
    ),
    "1 MB text": (
        lambda d: write(d / "a.csv", csv_text([("1", "快递慢" * 120_000, "物流"), *GOOD[1:]])),
        (["快递慢" * 120_000, *TEXTS[1:]], {}),
    ),
    "emoji, rare CJK, traditional": (
        lambda d: write(d / "a.csv", csv_text([("1", "物流太慢😡𠀀𪚥貨還沒到", "物流")])),
        (["物流太慢😡𠀀𪚥貨還沒到"], {}),
    ),
    "English and numbers only": (
        lambda d: write(d / "a.csv", csv_text([("1", "parcel lost", "物流"), ("2", "123456", "无")])),
        (["parcel lost", "123456"], {}),
    ),
    "XLSX with an empty first sheet": (
        lambda d: excel(d / "a.xlsx", {"说明": pd.DataFrame(), "数据": GOOD_FRAME}),
        (TEXTS, {}),
    ),
    "XLSX with several sheets": (
        lambda d: excel(d / "a.xlsx", {"x": GOOD_FRAME.head(1), "y": GOOD_FRAME}),
        (TEXTS[:1], {}),  # the first sheet with data, as in training
    ),
    "truncated Parquet": (lambda d: _truncated(d, ".parquet"), ("a.parquet", "Parquet")),
    "truncated XLSX": (lambda d: _truncated(d, ".xlsx"), ("a.xlsx", "XLSX")),
}
CASES["undecodable bytes in the id column"] = (
    lambda d: write(d / "a.csv", csv_text().encode() + b"0\xff4,\xe5\xbf\xab,x\n"),
    ([*TEXTS, "快"], {3: f"{UNDECODABLE} in column 'case_id'"}),
)
CASES["mixed UTF-8 and GBK rows"] = (CASES["mixed UTF-8 and GBK rows"][0], ([*TEXTS, "\ufffd"], {3: UNDECODABLE}))


def _output(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.parametrize("name", list(CASES))
def test_bad_scoring_input(tmp_path: Path, name: str):
    make, expected = CASES[name]
    path = make(tmp_path)
    if isinstance(expected, tuple) and expected and isinstance(expected[0], str):
        with pytest.raises(InputError) as err:
            score(path)
        for fragment in expected:
            assert fragment in str(err.value), f"{name}: {err.value}"
        assert not list(tmp_path.glob("*.scored*")), "no output for a file that could not be read"
        return
    texts, errors = expected
    summary = score(path)
    out = _output(Path(summary.outputs[0]))
    assert summary.rows_read == len(out) == len(texts), name
    if name != "mixed UTF-8 and GBK rows":  # the replacement characters' number depends on the decoder
        assert out["text"].tolist() == texts, name
    marked = {i: e for i, e in enumerate(out["score_error"]) if e}
    assert marked == errors, name
    assert out.loc[~out.index.isin(list(errors)), "party"].ne("").all(), name


def test_folder_with_one_bad_file_scores_the_good_ones(tmp_path: Path):
    folder = _folder_with_bad_file(tmp_path)
    with pytest.raises(InputError) as err:
        score(folder, tmp_path / "out")
    assert "b.csv" in str(err.value) and "empty" in str(err.value)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.scored.csv", "c.scored.csv"]
    assert _output(tmp_path / "out" / "a.scored.csv")["text"].tolist() == TEXTS
    assert _output(tmp_path / "out" / "c.scored.csv")["text"].tolist() == TEXTS[:2]


def test_inputs_of_a_folder_that_would_share_an_output_are_named_in_full(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    write(exports / "a.csv", csv_text())
    write(exports / "a.txt", csv_text(GOOD[:2]))
    score(exports, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.csv.scored.csv", "a.txt.scored.csv"]
    assert _output(tmp_path / "out" / "a.txt.scored.csv")["text"].tolist() == TEXTS[:2]


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_output_that_cannot_be_written_stops_before_scoring(tmp_path: Path, where: str):
    path = write(tmp_path / "a.csv", csv_text())
    (tmp_path / "taken.csv").mkdir()
    output = tmp_path / "taken.csv" if where == "a folder" else path / "out.csv"
    with pytest.raises(InputError, match="folder") as err:
        score(path, output)
    assert str(output) in str(err.value)


def test_a_folder_without_a_model_or_a_file_is_an_input_error(tmp_path: Path):
    path = write(tmp_path / "a.csv", csv_text())
    with pytest.raises(InputError, match="MLmodel"):
        score(path, model_uri=str(tmp_path))
    with pytest.raises(InputError, match="not a file"):
        score(path, model_uri=str(path))


def test_results_get_the_permissions_of_a_new_file(tmp_path: Path):
    """``mkstemp`` makes 0600 files: colleagues sharing the folder could not read the results."""
    path = write(tmp_path / "a.csv", csv_text())
    old = os.umask(0o022)
    try:
        score(path, tmp_path / "new.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644
    (tmp_path / "new.csv").chmod(0o664)
    score(path, tmp_path / "new.csv")
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o664, "a replaced result keeps its permissions"


def test_a_broken_json_line_is_marked_and_the_others_are_scored(tmp_path: Path):
    """Training refuses the file at the broken line (naming it); scoring keeps the line as a marked row."""
    lines = [json.dumps({"case_id": i, "text": t}, ensure_ascii=False) for i, t, _ in GOOD]
    lines.insert(1, '{"case_id": 9, "text": "快递丢件"')  # unterminated
    lines.insert(3, '["not", "an", "object"]')
    path = write(tmp_path / "a.jsonl", "\n".join(lines) + "\n")
    summary = score(path, tmp_path / "out.csv")
    out = _output(tmp_path / "out.csv")
    assert summary.rows_read == len(out) == 5
    assert out["text"].tolist() == [TEXTS[0], "", TEXTS[1], "", TEXTS[2]]
    assert out["score_error"].tolist() == ["", NOT_JSON, "", NOT_JSON, ""]
    assert out.loc[[1, 3], "needs_review"].tolist() == ["True", "True"]
    assert out.loc[[0, 2, 4], "party"].ne("").all()
