"""Reading dispute exports in every accepted format, and the error that names where input went wrong.

Every table comes back as strings (no type guessing: a case id like ``00123`` must stay ``00123``) with
two bookkeeping columns, ``_file`` and ``_row``, so a later check can name the exact spreadsheet row a
person would look at (header = row 1, first data row = row 2).
"""

from __future__ import annotations

import logging
from io import StringIO
from pathlib import Path

import pandas as pd
from charset_normalizer import from_bytes

log = logging.getLogger(__name__)

FILE_COL = "_file"
ROW_COL = "_row"
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".json", ".parquet")
#: Encodings tried in order before asking the detector: Excel on Chinese Windows saves GBK (GB18030 is
#: its superset), everything else is UTF-8, with or without a BOM.
_ENCODINGS = ("utf-8-sig", "gb18030")


class InputError(ValueError):
    """A problem with the user's input, phrased for the user: which file, which row, which column."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column = str(file), row, column
        where = str(file)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


def detect_encoding(raw: bytes, path: Path) -> str:
    """Name the text encoding of a CSV file's bytes; UTF-16 is recognised by its BOM."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in _ENCODINGS:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    best = from_bytes(raw).best()
    if best is None:
        raise InputError(path, "cannot tell the text encoding (not UTF-8, GBK/GB18030 or UTF-16)")
    return best.encoding


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV whose encoding is detected and stated in the log."""
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(path, "the file is empty")
    encoding = detect_encoding(raw, path)
    log.info("%s: read as %s", path, encoding)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    text = raw.decode(encoding).replace("\x00", "")
    return pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False)


def read_excel(path: Path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read one sheet of a workbook: the named one, else the first sheet that has any data."""
    try:
        sheets = pd.read_excel(path, sheet_name=None if sheet is None else sheet, dtype=str, keep_default_na=False)
    except ValueError as exc:  # unknown sheet name
        raise InputError(path, str(exc)) from exc
    except Exception as exc:  # zip/xml errors from a truncated or foreign file
        raise InputError(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    if isinstance(sheets, pd.DataFrame):
        return sheets
    for name, frame in sheets.items():
        if not frame.empty:
            if name != next(iter(sheets)):
                log.info("%s: first sheet is empty, reading sheet '%s'", path, name)
            return frame
    raise InputError(path, "every sheet of the workbook is empty")


def read_jsonl(path: Path) -> pd.DataFrame:
    """Read JSON Lines (or a JSON array of records) with every value as a string."""
    try:
        frame = pd.read_json(path, lines=path.suffix.lower() == ".jsonl", dtype=False)
    except ValueError as exc:
        raise InputError(path, f"not valid JSON lines ({exc})") from exc
    return frame.astype(str).where(frame.notna(), "")


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file; a truncated file is an input error, not a crash."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise InputError(path, f"not a readable Parquet file ({type(exc).__name__}: {exc})") from exc
    return frame.astype(str).where(frame.notna(), "")


def read_table(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read one file of any accepted format, adding ``_file`` and ``_row`` for error messages."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or directory")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        frame = read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        frame = read_excel(path, sheet)
    elif suffix in (".jsonl", ".json"):
        frame = read_jsonl(path)
    elif suffix == ".parquet":
        frame = read_parquet(path)
    else:
        raise InputError(path, f"unsupported file type '{suffix}' (use one of {', '.join(TABLE_SUFFIXES)})")
    if frame.columns.empty:
        raise InputError(path, "the file has no header row")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame[FILE_COL] = str(path)
    frame[ROW_COL] = range(2, len(frame) + 2)
    return frame


def table_files(path: str | Path) -> list[Path]:
    """The table files a path stands for: the file itself, or a directory's files in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
        if not files:
            raise InputError(path, f"the directory holds no table files ({', '.join(TABLE_SUFFIXES)})")
        return files
    return [path]


def read_tables(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a file, or every table file in a directory, into one frame (columns aligned by name)."""
    frames = [read_table(p, sheet) for p in table_files(path)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
