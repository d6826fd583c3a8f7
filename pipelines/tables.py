"""Reading dispute exports in every accepted format, and the error that names where input went wrong.

Every table comes back as strings (no type guessing: a case id like ``00123`` must stay ``00123``) with
two bookkeeping columns, ``_file`` and ``_row``, so a later check can name the exact spreadsheet row a
person would look at (header = row 1, first data row = row 2; in JSON Lines, the line).

Training reads a table whole (:func:`read_table`); scoring reads it in chunks (:func:`iter_table_chunks`)
so that memory stays bounded whatever the file size, and tolerates broken bytes that training refuses.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from io import StringIO
from itertools import chain
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

FILE_COL = "_file"
ROW_COL = "_row"
#: Set by a lenient reader on a row it could not read (why), "" elsewhere; scoring writes it as the row's error.
ERROR_COL = "_error"
#: Bookkeeping columns: never part of the user's table.
PLACE_COLUMNS = (FILE_COL, ROW_COL, ERROR_COL)
#: The ``_error`` of a JSON Lines line that is not a JSON object.
NOT_JSON = "not a JSON object"
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".json", ".parquet")
#: Encodings tried in order before asking the detector: Excel on Chinese Windows saves GBK (GB18030 is
#: its superset), everything else is UTF-8, with or without a BOM.
_ENCODINGS = ("utf-8-sig", "gb18030")
#: Rows per chunk when scoring: large enough for vectorized work, small enough to bound memory.
CHUNK_ROWS = 20_000
#: Bytes from the start of a CSV that decide its encoding when it is read in chunks.
_SNIFF_BYTES = 1 << 20
#: Bytes from the start of a CSV that tell UTF-16 without a BOM by how its separators are encoded.
_UTF16_SAMPLE = 1 << 16
#: The characters that structure a CSV (comma, tab, quote, line breaks).
_CSV_SEPARATORS = b',\t"\n\r'
#: Share of a sample's bytes (and a floor, for small files) an encoding may fail on and still be chosen;
#: the rows holding the failures are reported one by one instead of stopping the whole file.
_MAX_BROKEN, _MIN_BROKEN = 0.01, 8
#: A chunk of a table and the share of the file read once it was produced (for progress bars).
Chunk = tuple[pd.DataFrame, float]


class InputError(ValueError):
    """A problem with the user's input, phrased for the user: which file, which row, which column."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, column: str | None = None):
        self.file, self.message, self.row, self.column = str(file), message, row, column
        where = str(file)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, int | None, str | None]]:
        """Rebuilt from its parts when a helper process raises it (the default would pass only the text)."""
        return InputError, (self.file, self.message, self.row, self.column)


def detect_encoding(raw: bytes, path: Path) -> str:
    """Name the text encoding of a CSV file's bytes: UTF-16, UTF-8 or GB18030, and nothing else.

    Guessing other encodings would train on mojibake without anyone noticing, so a file none of these
    decodes is refused, naming the row of the first byte that the most promising encoding could not decode.
    """
    utf16 = _utf16(raw[:_UTF16_SAMPLE])
    candidates = (utf16,) if utf16 else _ENCODINGS
    failures: dict[str, UnicodeDecodeError] = {}
    for encoding in candidates:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as exc:
            failures[encoding] = exc
            continue
        return encoding
    encoding, exc = max(failures.items(), key=lambda item: item[1].start)
    prefix = raw[: exc.start].decode(encoding)
    line = prefix.count("\n") + 1
    raise InputError(
        path,
        f"byte 0x{raw[exc.start]:02x} on line {line} cannot be decoded as {encoding} (accepted: UTF-8, "
        "GBK/GB18030, UTF-16); save the export again in one of these",
        row=_csv_record(prefix),
    )


def _utf16(sample: bytes) -> str | None:
    """The UTF-16 codec a CSV's first bytes are in, else None: by the BOM, or without one by its separators.

    Some tools write UTF-16 with no BOM. Read as UTF-8 or GB18030 such a file is mojibake or a parse
    error, never a clean refusal. Its commas, tabs, quotes and line breaks are two-byte units, the character
    then a NUL (little-endian) or a NUL then the character (big-endian), at even offsets; the other order would
    be characters no export holds (U+0A00, U+2C00…). Counting NULs alone misleads: a text of long Chinese rows
    has few of them, and characters such as 退 (U+9000) carry one. UTF-8 and GBK text has no NUL bytes but
    padding, which comes in runs that UTF-16 text never has.
    """
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" * 4 in sample:
        return None
    units = np.frombuffer(sample[: len(sample) // 2 * 2], dtype=np.uint8).reshape(-1, 2)
    separators = np.frombuffer(_CSV_SEPARATORS, dtype=np.uint8)
    little = int(((units[:, 1] == 0) & np.isin(units[:, 0], separators)).sum())
    big = int(((units[:, 0] == 0) & np.isin(units[:, 1], separators)).sum())
    if max(little, big) < 2 or min(little, big) * 10 > max(little, big):
        return None
    return "utf-16-le" if little > big else "utf-16-be"


def _separator(path: Path, encoding: str) -> str:
    """Tab for ``.tsv``, comma for ``.csv``; for ``.txt`` whichever the header line holds more of.

    Excel's "Unicode Text" export is a tab-separated ``.txt``; other tools write comma-separated ones.
    """
    suffix = path.suffix.lower()
    if suffix != ".txt":
        return "\t" if suffix == ".tsv" else ","
    with path.open("rb") as fh:
        header = fh.read(_UTF16_SAMPLE).decode(encoding, errors="replace").split("\n", 1)[0]
    return "\t" if header.count("\t") > header.count(",") else ","


def _csv_record(prefix: str) -> int:
    """The spreadsheet row (header = 1) in which the text after ``prefix`` falls; quoted line breaks count
    as part of their cell, as Excel counts them."""
    return sum(1 for _ in csv.reader(io.StringIO(prefix.replace("\x00", "") + "x")))


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV whose encoding is detected and stated in the log."""
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(path, "the file is empty")
    encoding = detect_encoding(raw, path)
    log.info("%s: read as %s", path, encoding)
    sep = _separator(path, encoding)
    text = raw.decode(encoding).replace("\x00", "")
    try:
        return pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise _csv_error(path, exc) from None


def _csv_error(path: Path, exc: pd.errors.ParserError) -> InputError:
    """A CSV the parser gave up on, as an error naming the row (pandas counts records, the header as 1)."""
    message = str(exc).strip()
    if found := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, row, saw = map(int, found.groups())
        return InputError(
            path,
            f"{saw} cells where the header has {expected}: a cell holding the separator must be quoted "
            '(Excel\'s "CSV UTF-8" export does this)',
            row=row,
        )
    if found := re.search(r"EOF inside string starting at row (\d+)", message):
        return InputError(
            path,
            'a quote (") opens a cell here and never closes, so the rest of the file would be one cell',
            row=int(found.group(1)) + 1,
        )
    return InputError(path, f"not a readable CSV ({message})")


def read_excel(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Read one sheet of a workbook whole: the named one, else the first sheet that has any data.

    The same streaming reader as scoring's, so that training and scoring see the same rows with the same
    row numbers (pandas would take a blank first row for the header).
    """
    return pd.concat([frame for frame, _ in _excel_chunks(path, sheet, CHUNK_ROWS)], ignore_index=True)


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as a string, missing values as "" (JSON and Parquet carry types that CSV does not)."""
    return frame.astype(str).where(frame.notna(), "")


def read_jsonl(path: Path) -> pd.DataFrame:
    """Read JSON Lines (or a JSON array of records) with every value as a string; bad bytes are refused."""
    return pd.concat([frame for frame, _ in _json_chunks(path, CHUNK_ROWS, "strict")], ignore_index=True)


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file; a truncated file is an input error, not a crash."""
    with parquet_file(path) as parquet:
        return _as_strings(parquet.read().to_pandas(integer_object_nulls=True))


def has_sheet(path: Path, sheet: str) -> bool:
    """Whether ``path`` is a workbook with a sheet of that name (an unreadable one is reported by its reader)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # zip/xml errors: read_table names them
        return False
    try:
        return sheet in book.sheetnames
    finally:
        book.close()


def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
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
    if frame.empty:
        raise InputError(path, "the table has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return _with_place(frame, path, 2)


def _with_place(frame: pd.DataFrame, path: Path, first_row: int) -> pd.DataFrame:
    """The frame with ``_file`` and ``_row`` last; ``_row`` counts from ``first_row`` unless the reader set
    it (a sheet's blank rows above the header, a JSON file's lines)."""
    rows = frame.pop(ROW_COL) if ROW_COL in frame else range(first_row, first_row + len(frame))
    return frame.assign(**{FILE_COL: str(path), ROW_COL: rows})


def table_files(path: str | Path) -> list[Path]:
    """The table files a path stands for: the file itself, or a directory's files in name order.

    Subfolders are not read (an export folder often keeps older exports or results in one), and the log
    names them. Hidden files and Office's lock files (``~$book.xlsx``, there while the workbook is open) are
    skipped: they carry a table suffix but no table, and one of them would stop the whole job.
    """
    path = Path(path)
    if not path.is_dir():
        return [path]
    entries = sorted(path.iterdir())
    files = [
        p for p in entries if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not p.name.startswith((".", "~$"))
    ]
    if folders := [p.name for p in entries if p.is_dir() and not p.name.startswith(".")]:
        log.warning("%s: subfolders not read: %s", path, ", ".join(folders))
    if not files:
        raise InputError(path, f"the directory holds no table files ({', '.join(TABLE_SUFFIXES)})")
    return files


# --- chunked reading, for scoring ------------------------------------------------------------------------


def sniff_encoding(path: Path) -> str:
    """The encoding of a CSV told from its first megabyte, tolerating a few broken byte sequences.

    :func:`detect_encoding` needs the whole file to decode cleanly, which is right for training data but
    would stop a scoring job over one damaged row; here UTF-8 or GB18030 is chosen by :func:`_utf8_votes`
    and accepted when it fails on at most 1% of the characters (or a handful): the damaged rows are then
    reported one by one. Failure counts alone cannot choose: GB18030 decodes almost any bytes, so a UTF-8
    export with one GBK row would be read as GB18030 mojibake, every row silently wrong.
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
        whole = not fh.read(1)
    if not head.strip():
        raise InputError(path, "the file is empty")
    if utf16 := _utf16(head[:_UTF16_SAMPLE]):
        return utf16
    if not whole:  # end the sample at a line break, so that no character is cut in two
        head = head[: head.rfind(b"\n") + 1] or head
    best = "utf-8-sig" if _utf8_votes(head) >= 0 else "gb18030"
    if head.decode(best, errors="replace").count("\ufffd") <= max(_MAX_BROKEN * len(head), _MIN_BROKEN):
        return best
    return detect_encoding(head, path)  # too damaged for either: refused, naming the first bad row


def _utf8_votes(sample: bytes) -> int:
    """Non-ASCII lines that are valid UTF-8 minus those that are not: positive for UTF-8 text, negative for
    GBK (whose multi-byte sequences are rarely valid UTF-8), zero for ASCII."""
    votes = 0
    for line in sample.splitlines():
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                votes -= 1
            else:
                votes += 1
    return votes


class _WithoutNul(io.RawIOBase):
    """A byte stream minus NUL bytes, which :func:`read_csv` drops too (some exporters pad with them).

    Only for UTF-8 and GB18030, where a NUL byte is never part of another character.
    """

    def __init__(self, stream: Any):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            data = self._stream.read(len(buffer))
            kept = data.replace(b"\x00", b"")
            if kept or not data:  # an all-NUL block must not look like the end of the file
                buffer[: len(kept)] = kept
                return len(kept)


def _csv_chunks(path: Path, rows: int) -> Iterator[Chunk]:
    """CSV/TSV in chunks; bytes the detected encoding cannot decode become U+FFFD in their row.

    pandas decodes the bytes itself (UTF-8 natively: several times faster than handing it decoded text).
    UTF-16 (Excel's "Unicode Text" export), whose characters hold NUL bytes, is recoded to UTF-8 first.
    """
    encoding = sniff_encoding(path)
    log.info("%s: read as %s", path, encoding)
    size = path.stat().st_size
    sep = _separator(path, encoding)
    with path.open("rb") as raw:
        stream: Any = raw
        if encoding.startswith("utf-16"):
            stream, encoding = codecs.EncodedFile(raw, "utf-8", encoding, errors="replace"), "utf-8"
        try:
            reader = pd.read_csv(
                _WithoutNul(stream),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                chunksize=rows,
                encoding=encoding,
                encoding_errors="replace",
            )
            for frame in reader:
                yield frame, raw.tell() / size
        except pd.errors.ParserError as exc:
            raise _csv_error(path, exc) from None


def _json_chunks(path: Path, rows: int, errors: str = "replace") -> Iterator[Chunk]:
    """JSON Lines in chunks, or a JSON array of records whole (it cannot be streamed), ``_row`` = line number.

    Parsed with :mod:`json` rather than pandas, so that numbers keep the digits they were written with: an
    id such as 9007199254740993 must not pass through a float, as pandas does to a number column with a gap.
    ``errors="strict"`` (training) refuses the file at the first line that is not a UTF-8 JSON object, naming
    it. ``errors="replace"`` (scoring) turns bytes that are not UTF-8 into U+FFFD, which marks their row, and
    keeps a line that is not a JSON object as an empty row whose ``_error`` says so: one broken line of an
    export must not cost the others.
    """
    size = path.stat().st_size or 1
    lenient = errors != "strict"
    with path.open("rb") as raw:
        if path.suffix.lower() == ".json":
            records = _json_value(path, raw.read(), 1, errors)
            if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
                raise InputError(path, "a .json file must hold a non-empty array of objects, one per case")
            yield _records_frame(records, range(1, len(records) + 1), lenient), 1.0
            return
        batch: list[dict[str, Any]] = []
        lines: list[int] = []
        count = 0
        for number, line in enumerate(raw, start=1):
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            try:
                record = _json_value(path, line.rstrip(b"\r\n"), number, errors)
                if not isinstance(record, dict):
                    raise InputError(path, f"line {number} is not a JSON object: one object per line, one per case")
            except InputError:
                if not lenient:
                    raise
                record = {ERROR_COL: NOT_JSON}
            batch.append(record)
            lines.append(number)
            count += 1
            if len(batch) == rows:
                yield _records_frame(batch, lines, lenient), raw.tell() / size
                batch, lines = [], []
        if not count:
            raise InputError(path, "the file holds no JSON records")
        if batch:
            yield _records_frame(batch, lines, lenient), 1.0


def _json_value(path: Path, data: bytes, line: int, errors: str) -> Any:
    """One JSON text starting on ``line``, decimals exact; errors name the line."""
    try:
        return json.loads(data.decode("utf-8-sig", errors=errors), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        bad_line = line + data.count(b"\n", 0, exc.start)
        raise InputError(path, f"line {bad_line} is not UTF-8 ({exc.reason}); save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        bad_line = line + exc.lineno - 1
        raise InputError(path, f"line {bad_line} is not valid JSON ({exc.msg}, column {exc.colno})") from None


def _records_frame(records: list[dict[str, Any]], lines: Sequence[int], marked: bool = False) -> pd.DataFrame:
    """Records as a string table, keys in order of first appearance, each row's ``_row`` its line; ``marked``
    adds ``_error`` to every row ("" where the line was read), so that every chunk of a file has it."""
    cells = [{key: _json_cell(value) for key, value in record.items()} for record in records]
    frame = _as_strings(pd.DataFrame.from_records(cells)).assign(**{ROW_COL: list(lines)})
    if marked:
        frame[ERROR_COL] = frame.pop(ERROR_COL) if ERROR_COL in frame else ""
    return frame


def _json_cell(value: Any) -> str | None:
    """A JSON value as text, made here so that pandas never sees a number: numbers keep the digits they were
    written with (integers are exact, decimals are :class:`~decimal.Decimal`), and a nested object or list
    stays JSON."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=float)
    return str(value)


def parquet_file(path: Path) -> pq.ParquetFile:
    """A Parquet file opened for reading; a damaged one is an input error, not a crash."""
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise InputError(path, f"not a readable Parquet file ({type(exc).__name__}: {exc})") from exc


def _parquet_chunks(path: Path, rows: int) -> Iterator[Chunk]:
    """Parquet in record batches, never the whole file in memory."""
    parquet = parquet_file(path)
    total, done = parquet.metadata.num_rows or 1, 0
    with parquet:
        for batch in parquet.iter_batches(batch_size=rows):
            done += batch.num_rows
            # integer_object_nulls: an integer id column with a gap would otherwise become floats (123.0)
            yield _as_strings(batch.to_pandas(integer_object_nulls=True)), done / total
    if done == 0:
        yield pd.DataFrame(columns=parquet.schema_arrow.names), 1.0


def _cell_text(value: Any) -> str:
    """A cell as Excel shows it: whole numbers without ``.0``, empty cells as ""."""
    if value is None:
        return ""
    if isinstance(value, Real) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _header(values: tuple[Any, ...]) -> list[str]:
    """Column names of a header row, unnamed and repeated ones spelled as pandas spells them."""
    names: list[str] = []
    for i, value in enumerate(values):
        name = _cell_text(value).strip() or f"Unnamed: {i}"
        base, n = name, 0
        while name in names:
            n += 1
            name = f"{base}.{n}"
        names.append(name)
    return names


def _excel_chunks(path: Path, sheet: str | None, rows: int) -> Iterator[Chunk]:
    """One sheet streamed row by row (openpyxl read-only): the named one, else the first with data rows.

    The header is the first row with a value. Blank rows after it are kept as empty rows, so that rows out
    equal the rows a person sees and each row's ``_row`` is its row in the sheet; blank rows at the end are
    dropped (a sheet's used range often runs past its data).
    """
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip/xml errors from a truncated or foreign file
        raise InputError(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        if sheet is None:
            sheets = book.worksheets
        else:
            try:
                sheets = [book[sheet]]
            except KeyError:
                raise InputError(path, f"no sheet {sheet!r}; the workbook has {book.sheetnames}") from None
        for ws in sheets:
            declared = ws.max_row or 0
            ws.reset_dimensions()  # declared dimensions can be wrong; let openpyxl find the real extent
            lines = ((n, row) for n, row in enumerate(ws.iter_rows(values_only=True), start=1) if not _blank(row))
            header, first = next(lines, None), next(lines, None)
            if header is None or (first is None and sheet is None):
                continue
            if ws is not sheets[0]:
                log.info("%s: first sheet is empty, reading sheet '%s'", path, ws.title)
            columns = _header(header[1])
            batch: list[list[str]] = []
            numbers: list[int] = []
            data = chain([first] if first is not None else [], lines)
            for number, cells in _sheet_rows(data, header[0], len(columns)):
                batch.append(cells)
                numbers.append(number)
                if len(batch) == rows:
                    yield _sheet_frame(batch, numbers, columns), min(number / declared, 1.0) if declared else 0.0
                    batch, numbers = [], []
            yield _sheet_frame(batch, numbers, columns), 1.0
            return
        raise InputError(path, "every sheet of the workbook is empty")
    finally:
        book.close()


def _sheet_rows(
    lines: Iterator[tuple[int, tuple[Any, ...]]], header_row: int, width: int
) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows below the header as ``width`` texts with their row numbers, the blank rows between
    them included as empty rows (the blank rows after the last one never reach here)."""
    previous = header_row
    for number, row in lines:
        for blank in range(previous + 1, number):
            yield blank, [""] * width
        cells = [_cell_text(v) for v in row[:width]]
        yield number, cells + [""] * (width - len(cells))
        previous = number


def _blank(row: tuple[Any, ...]) -> bool:
    """A sheet row with no value in any cell."""
    return all(v in (None, "") for v in row)


def _sheet_frame(batch: list[list[str]], numbers: list[int], columns: list[str]) -> pd.DataFrame:
    """Rows of a sheet as a string table, each with its row number in the sheet as ``_row``."""
    return pd.DataFrame(batch, columns=columns, dtype=str).assign(**{ROW_COL: numbers})


def iter_table_chunks(path: str | Path, sheet: str | None = None, rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Read one file of any accepted format in chunks of at most ``rows`` rows, with ``_file`` and ``_row``.

    Every chunk has the first chunk's columns (JSON Lines may add keys later on: those are reported and
    left out, since the output's header is already written). A table with a header and no rows gives one
    empty chunk, so that its columns are still known.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or directory")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        chunks = _csv_chunks(path, rows)
    elif suffix in (".xlsx", ".xlsm"):
        chunks = _excel_chunks(path, sheet, rows)
    elif suffix in (".jsonl", ".json"):
        chunks = _json_chunks(path, rows)
    elif suffix == ".parquet":
        chunks = _parquet_chunks(path, rows)
    else:
        raise InputError(path, f"unsupported file type '{suffix}' (use one of {', '.join(TABLE_SUFFIXES)})")
    columns: list[str] | None = None
    next_row = 2
    for frame, done in chunks:
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = _with_place(frame.reset_index(drop=True), path, next_row)
        if columns is None:
            if frame.columns.drop([c for c in PLACE_COLUMNS if c in frame]).empty:
                raise InputError(path, "the file has no header row")
            columns = list(frame.columns)
        elif list(frame.columns) != columns:
            if extra := [c for c in frame.columns if c not in columns]:
                first = frame[ROW_COL].iat[0]
                log.warning("%s: column(s) %s first appear at row %d and are not written", path, extra, first)
            frame = frame.reindex(columns=columns, fill_value="")
        next_row += len(frame)
        yield frame, done
