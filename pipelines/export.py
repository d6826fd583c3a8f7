"""Writing scored tables: CSV (UTF-8 with BOM), XLSX, Parquet or JSON Lines, chunk by chunk, all or nothing.

Reviewers open results in Excel, so the CSV carries a BOM (without it Excel shows Chinese as mojibake) and
every text cell that Excel would run as a formula is neutralized. A result is written to a temporary file
beside the output and renamed over it only once complete, so a crash never leaves a half-written file
where a finished one is expected; the temporary file is hidden, named after the writing process, and
removed by the next write of the same output once that process is gone (a killed job cannot clean up).
"""

from __future__ import annotations

import codecs
import glob
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipelines.tables import InputError
from pipelines.text import is_missing

#: A cell starting with one of these is run as a formula by Excel (tab and CR too, per OWASP's advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Rows one worksheet can hold (header included).
XLSX_MAX_ROWS = 1_048_576
#: Characters one Excel cell can hold; openpyxl cuts longer texts without a word.
XLSX_MAX_CHARS = 32_767

log = logging.getLogger(__name__)


def neutralize(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that Excel would run as formulas, prefixed with ``'`` so they show as typed."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object:  # each distinct value checked once: score columns repeat a few values
            try:
                codes, distinct = pd.factorize(values)
            except TypeError:  # unhashable cells (a JSON list): every cell checked
                codes, distinct = np.arange(len(values)), values.to_numpy()
            checked = [isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in distinct]
            risky = np.append(np.asarray(checked, dtype=bool), False)[codes]  # code -1 (missing) reads False
        elif pd.api.types.is_string_dtype(values):  # pandas' own text dtype: checked in one vectorized call
            risky = values.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
        else:
            continue
        if risky.any():
            out[column] = values.where(~risky, "'" + values.astype(str))
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = False, encoding: str = "utf-8-sig") -> Path:
    """Write a whole table people open in Excel (MLflow artifacts, audit lists) with formulas neutralized:
    their texts come from customers, and a complaint starting with ``=`` must not run when opened."""
    neutralize(frame).to_csv(path, index=index, encoding=encoding)
    return path


class _Sink(Protocol):
    def write(self, frame: pd.DataFrame) -> None: ...
    def close(self) -> None: ...


class _CsvSink:
    """CSV in UTF-8 with a BOM (written once, at the start), header before the first chunk.

    pyarrow writes it: pandas' writer first turns every text column into Python objects, which made
    writing cost as much as scoring. Text cells are quoted, numbers are not, and flags read True/False.
    """

    def __init__(self, path: Path, sep: str = ","):
        self._fh = path.open("wb")
        self._fh.write(codecs.BOM_UTF8)
        self._sep, self._header = sep, True

    def write(self, frame: pd.DataFrame) -> None:
        options = pa_csv.WriteOptions(include_header=self._header, delimiter=self._sep)
        pa_csv.write_csv(_csv_table(neutralize(frame)), self._fh, options)
        self._header = False

    def close(self) -> None:
        self._fh.close()


def _csv_table(frame: pd.DataFrame) -> pa.Table:
    """A chunk as an Arrow table of CSV cells: flags as ``True``/``False`` (as pandas writes them), dates as
    pandas prints them, and any other Python object as its ``str`` (an XLSX column can mix numbers and text)."""
    columns = {}
    for name, values in frame.items():
        if pd.api.types.is_bool_dtype(values):
            cells = pa.array(np.where(values.to_numpy(dtype=bool), "True", "False"))
        elif isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values):
            cells = pa.array(values.astype("string"), from_pandas=True)
        elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            cells = pa.array(values, type=pa.string(), from_pandas=True)
        elif values.dtype == object:
            cells = pa.array(
                [v if isinstance(v, str) else None if is_missing(v) else str(v) for v in values],
                type=pa.string(),
            )
        else:
            cells = pa.array(values, from_pandas=True)
        columns[str(name)] = cells
    return pa.table(columns)


class _XlsxSink:
    """One worksheet streamed through openpyxl's write-only mode, which keeps rows on disk, not in memory."""

    def __init__(self, path: Path):
        self._path, self._book = path, Workbook(write_only=True)
        self._sheet = self._book.create_sheet("scored")
        self._rows = 0
        self._cut: list[tuple[int, str]] = []  # (sheet row, column) of each text longer than a cell holds

    def write(self, frame: pd.DataFrame) -> None:
        if self._rows == 0:
            self._sheet.append([str(c) for c in frame.columns])
            self._rows = 1
        self._rows += len(frame)
        if self._rows > XLSX_MAX_ROWS:
            raise OverflowError(f"more than {XLSX_MAX_ROWS - 1} rows do not fit in one sheet; write .csv or .parquet")
        first_row = self._rows - len(frame) + 1
        for offset, row in enumerate(neutralize(frame).itertuples(index=False)):
            cells = [_xlsx_value(v) for v in row]
            if any(isinstance(v, str) and len(v) > XLSX_MAX_CHARS for v in cells):
                self._cut.extend(
                    (first_row + offset, str(frame.columns[i]))
                    for i, v in enumerate(cells)
                    if isinstance(v, str) and len(v) > XLSX_MAX_CHARS
                )
            self._sheet.append(cells)

    def close(self) -> None:
        self._book.save(self._path)

    def report(self, shown: Path) -> None:
        """Warn about the texts that were cut to fit a cell, naming the result as the user knows it."""
        if self._cut:
            row, column = min(self._cut)
            log.warning(
                "%s: %d cell(s) longer than Excel's %d characters were cut, the first in row %d, column '%s'; "
                "write .csv or .parquet to keep them whole",
                shown,
                len(self._cut),
                XLSX_MAX_CHARS,
                row,
                column,
            )


def _xlsx_value(value: object) -> object:
    """A cell value openpyxl can store: no NaN (empty instead), no control characters in text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class _ParquetSink:
    """Parquet row groups, one per chunk; read by programs, so values are written unchanged."""

    def __init__(self, path: Path):
        self._path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if self._writer is None:
            schema = pa.schema([(str(c), _arrow_type(frame[c])) for c in frame.columns])
            self._writer = pq.ParquetWriter(self._path, schema)
        self._writer.write_table(pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _arrow_type(column: pd.Series) -> pa.DataType:
    """A column's Parquet type, fixed from the first chunk: a column that is all empty there is still text."""
    if pd.api.types.is_bool_dtype(column):
        return pa.bool_()
    if pd.api.types.is_float_dtype(column):
        return pa.float64()
    if pd.api.types.is_integer_dtype(column):
        return pa.int64()
    return pa.string()


class _JsonlSink:
    """JSON Lines, one record per row, Chinese kept readable (not ``\\u`` escaped)."""

    def __init__(self, path: Path):
        self._fh = path.open("w", encoding="utf-8")

    def write(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._fh.write(frame.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n") + "\n")

    def close(self) -> None:
        self._fh.close()


_SINKS = {
    ".csv": _CsvSink,
    ".tsv": lambda path: _CsvSink(path, sep="\t"),
    ".xlsx": _XlsxSink,
    ".parquet": _ParquetSink,
    ".jsonl": _JsonlSink,
}
#: Output formats, by file extension.
OUTPUT_SUFFIXES: tuple[str, ...] = tuple(_SINKS)


class TableWriter:
    """Appends chunks to the output's temporary file and counts the rows written."""

    def __init__(self, sink: _Sink):
        self._sink, self.rows = sink, 0

    def write(self, frame: pd.DataFrame) -> None:
        self._sink.write(frame)
        self.rows += len(frame)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete the temporary files that killed writers of ``path`` left behind; a live writer's file stays."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _output_mode(path: Path) -> int:
    """The permissions a result gets: those of the file it replaces, else what a new file gets (0666 minus
    the umask). ``mkstemp`` creates 0600, which would hide results from colleagues sharing the folder."""
    if path.is_file():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_output(path: Path) -> None:
    """Refuse an output that could not be written, before the work that fills it: a format no writer has,
    a folder in its place, or a file where one of its folders should be."""
    if path.is_dir():
        raise InputError(path, "the output is a folder; name a file")
    if path.suffix.lower() not in _SINKS:
        raise InputError(path, f"cannot write '{path.suffix}' files; use one of {', '.join(OUTPUT_SUFFIXES)}")
    if blocking := next((p for p in path.parents if p.exists() and not p.is_dir()), None):
        raise InputError(path, f"cannot create the output: '{blocking}' is a file, not a folder")


@contextmanager
def atomic_table(path: str | Path) -> Iterator[TableWriter]:
    """A writer for ``path`` in the format its extension names; the file appears only if the block succeeds.

    The temporary file lives in the output's own folder, so the final rename is atomic (same filesystem)
    and replaces any previous result in one step.
    """
    path = Path(path)
    check_output(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_output_mode(path))
    try:
        sink = _SINKS[suffix](tmp)
        try:
            yield TableWriter(sink)
        except OverflowError as exc:
            raise InputError(path, str(exc)) from exc
        finally:
            sink.close()
        os.replace(tmp, path)
        if isinstance(sink, _XlsxSink):
            sink.report(path)
    finally:
        tmp.unlink(missing_ok=True)
