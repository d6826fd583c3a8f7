"""From a raw export table to cases: one row per case with ``case_id``, ``text`` and (for training) ``label``.

Exports come with English or Chinese headers, party names in either language, and chats either as one
row per turn or as one text of ``买家：``/``客服：`` lines. This module maps all of that onto one shape,
and refuses input it cannot map with an error naming the file, the spreadsheet row and the column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from pipelines.config import AGENT_MARK, BUYER_MARK, PARTY_CODES
from pipelines.tables import FILE_COL, PLACE_COLUMNS, ROW_COL, InputError, has_sheet, read_table, table_files

log = logging.getLogger(__name__)

#: Header aliases, compared after stripping and lower-casing. The first alias (in this order) the table has wins.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": (
        "case_id",
        "id",
        "case",
        "caseid",
        "ticket_id",
        "dispute_id",
        "session_id",
        "案件编号",
        "案件号",
        "案件id",
        "工单号",
        "工单编号",
        "投诉编号",
        "编号",
        "会话id",
        "会话编号",
    ),
    "text": (
        "text",
        "content",
        "complaint",
        "complaint_text",
        "chat",
        "chat_log",
        "dialogue",
        "description",
        "投诉内容",
        "内容",
        "文本",
        "聊天记录",
        "对话",
        "对话内容",
        "描述",
        "问题描述",
        "投诉描述",
        "纠纷描述",
    ),
    "label": (
        "label",
        "party",
        "responsible_party",
        "responsibility",
        "liable_party",
        "责任方",
        "责任",
        "判责",
        "判责结果",
        "标签",
        "责任归属",
    ),
    # A second party the text also blames (optional; few-label training learns it with a small weight).
    "secondary": (
        "secondary",
        "secondary_label",
        "secondary_party",
        "second_party",
        "次要责任方",
        "次责任方",
        "次要责任",
    ),
    "turn": ("turn", "turn_id", "seq", "轮次", "序号", "发言序号"),
    "role": ("role", "speaker", "sender", "角色", "发言人", "发言方", "身份"),
}

#: Label aliases (lower-cased) onto label codes; ``none`` means no party is to blame.
LABEL_ALIASES: dict[str, str] = {
    "merchant": "merchant",
    "seller": "merchant",
    "shop": "merchant",
    "商家": "merchant",
    "卖家": "merchant",
    "店铺": "merchant",
    "商户": "merchant",
    "platform": "platform",
    "平台": "platform",
    "电商平台": "platform",
    "consumer": "consumer",
    "buyer": "consumer",
    "customer": "consumer",
    "消费者": "consumer",
    "买家": "consumer",
    "顾客": "consumer",
    "用户": "consumer",
    "logistics": "logistics",
    "courier": "logistics",
    "carrier": "logistics",
    "物流": "logistics",
    "快递": "logistics",
    "承运商": "logistics",
    "none": "none",
    "无": "none",
    "无责": "none",
    "无责任方": "none",
    "无纠纷": "none",
}

#: Role aliases (lower-cased) for one-row-per-turn chats.
ROLE_MARKS: dict[str, str] = {
    **dict.fromkeys(("buyer", "customer", "user", "consumer", "买家", "顾客", "用户", "消费者"), BUYER_MARK),
    **dict.fromkeys(("agent", "staff", "seller", "service", "客服", "商家", "卖家", "商家客服"), AGENT_MARK),
}


@dataclass(frozen=True)
class Columns:
    """Which input column plays which part; ``None`` where the table has no such column."""

    case_id: str | None
    text: str
    label: str | None
    secondary: str | None
    turn: str | None
    role: str | None


def _find(frame: pd.DataFrame, part: str, explicit: str | None) -> str | None:
    if explicit:
        if explicit not in frame.columns:
            raise InputError(_file_of(frame), f"column '{explicit}' not found; columns are {_user_columns(frame)}")
        return explicit
    by_key = {str(c).strip().lower(): c for c in frame.columns}
    return next((by_key[a] for a in COLUMN_ALIASES[part] if a in by_key), None)


def _user_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in PLACE_COLUMNS]


def _file_of(frame: pd.DataFrame) -> str:
    return str(frame[FILE_COL].iat[0]) if FILE_COL in frame and len(frame) else "input"


def find_columns(
    frame: pd.DataFrame,
    *,
    id_col: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    need_label: bool,
    need_id: bool = True,
) -> Columns:
    """Locate the case id, text, label, secondary label and chat-turn columns by explicit name or by alias.

    ``need_id=False`` accepts a table without a case id column unless its chats come as one row per turn,
    which only the id can join (``case_id`` is then ``None``)."""
    found = {
        part: _find(frame, part, explicit)
        for part, explicit in (
            ("case_id", id_col),
            ("text", text_col),
            ("label", label_col),
            ("secondary", None),
            ("turn", None),
            ("role", None),
        )
    }
    wanted = ("case_id",) * (need_id or found["role"] is not None) + ("text",) + ("label",) * need_label
    missing = [part for part in wanted if found[part] is None]
    if missing:
        hints = "; ".join(f"{part}: one of {', '.join(COLUMN_ALIASES[part][:6])}, …" for part in missing)
        raise InputError(
            _file_of(frame),
            f"missing column(s) {', '.join(missing)} (found {_user_columns(frame)}). Accepted headers — {hints}; "
            "rename the header to one of these, or name the column with --id-col/--text-col/--label-col",
        )
    return Columns(**found)


def normalize_labels(
    labels: pd.Series, frame: pd.DataFrame, column: str, allowed_extra: Iterable[str] = (), *, optional: bool = False
) -> pd.Series:
    """Map label aliases onto codes; an unknown label is an error naming its first rows, and so is an empty
    one unless ``optional`` (a secondary label, which most cases lack: it stays "")."""
    extra = {e.strip().lower(): e.strip().lower() for e in allowed_extra}
    keys = labels.fillna("").astype(str).str.strip().str.lower()
    mapped = keys.map(LABEL_ALIASES | extra | ({"": ""} if optional else {}))
    bad = mapped.isna()
    if bad.any():
        first = frame.loc[bad].iloc[0]
        values = sorted(set(labels[bad].astype(str)))[:5]
        raise InputError(
            first[FILE_COL],
            f"{int(bad.sum())} row(s) with an unknown or empty label, e.g. {values}. Known labels: "
            f"{', '.join(PARTY_CODES)}, none (or 商家/平台/消费者/物流/无); to learn another label as a class, "
            "pass --allow-label NAME",
            row=int(first[ROW_COL]),
            column=column,
        )
    return mapped


def turns_to_cases(frame: pd.DataFrame, cols: Columns) -> pd.DataFrame:
    """Join one-row-per-turn chats into one text per case, each line marked with its speaker."""
    roles = frame[cols.role].astype(str).str.strip().str.lower()
    marks = roles.map(ROLE_MARKS)
    unknown = marks.isna() & frame[cols.text].astype(str).str.strip().ne("")
    if unknown.any():
        first = frame.loc[unknown].iloc[0]
        raise InputError(
            first[FILE_COL],
            f"unknown speaker role '{first[cols.role]}' (use buyer/agent or 买家/客服)",
            row=int(first[ROW_COL]),
            column=cols.role,
        )
    lines = frame.assign(_line=marks.fillna("") + frame[cols.text].astype(str).str.strip())
    lines = lines[frame[cols.text].astype(str).str.strip().ne("")]
    if cols.turn is not None:
        order = pd.to_numeric(lines[cols.turn], errors="coerce")
        lines = lines.assign(_order=order).sort_values([cols.case_id, "_order", ROW_COL], kind="stable")
    grouped = lines.groupby(cols.case_id, sort=False)
    cases = grouped.agg(text=("_line", "\n".join), **{FILE_COL: (FILE_COL, "first"), ROW_COL: (ROW_COL, "first")})
    for part, column in (("label", cols.label), ("secondary", cols.secondary)):
        if column is not None:
            cases[part] = grouped[column].agg(_one_label(frame, column))
    return cases.reset_index().rename(columns={cols.case_id: "case_id"})


def _one_label(frame: pd.DataFrame, column: str):
    """Aggregator for a chat's label (or secondary label): every labeled turn of a case must agree."""

    def agg(values: pd.Series) -> str:
        labels = [v for v in values.fillna("").astype(str).str.strip() if v]
        if len(set(labels)) > 1:
            rows = frame.loc[values.index, ROW_COL].tolist()
            raise InputError(
                frame.loc[values.index[0], FILE_COL],
                f"turns of one chat carry different labels {sorted(set(labels))} (rows {rows[:5]})",
                row=int(rows[0]),
                column=column,
            )
        return labels[0] if labels else ""

    return agg


CASES_SCHEMA = pa.DataFrameSchema(
    {
        "case_id": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "text": pa.Column(str, pa.Check(lambda s: s.str.strip().str.len() > 0, error="empty text"), nullable=False),
    },
    strict=False,
)


def validate(cases: pd.DataFrame, *, labeled: bool) -> pd.DataFrame:
    """Check the case table with pandera and turn the first failure into a message naming file, row, column."""
    try:
        CASES_SCHEMA.validate(cases, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases.dropna(subset=["index"])
        first = failures.iloc[0]
        row = cases.loc[first["index"]]
        count = int((failures["column"] == first["column"]).sum())
        raise InputError(
            row[FILE_COL],
            f"{first['check']} in {count} row(s) (case id '{row['case_id']}')",
            row=int(row[ROW_COL]),
            column=str(first["column"]),
        ) from None
    if labeled:
        _check_conflicting_duplicates(cases)
    return cases


def _check_conflicting_duplicates(cases: pd.DataFrame) -> None:
    labels_per_id = cases.groupby("case_id")["label"].nunique()
    conflicting = labels_per_id[labels_per_id > 1]
    if not conflicting.empty:
        rows = cases[cases["case_id"] == conflicting.index[0]]
        raise InputError(
            rows[FILE_COL].iat[0],
            f"case id '{conflicting.index[0]}' appears in rows {rows[ROW_COL].tolist()[:5]} with different labels "
            f"{sorted(rows['label'].unique())} ({len(conflicting)} such id(s) in all)",
            row=int(rows[ROW_COL].iat[1]),
            column="label",
        )


def to_cases(
    frame: pd.DataFrame,
    *,
    need_label: bool,
    id_col: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    allow_labels: Iterable[str] = (),
) -> pd.DataFrame:
    """A raw table in, validated cases out (``case_id, text[, label[, secondary]]`` + extra columns): how
    training reads a labeled export. (Scoring keeps every row instead, and unlabeled exports need texts only.)

    Rows with no value in any cell (a spreadsheet's blank separator rows) are no cases: they are skipped and
    counted in the log, where a half-filled row is refused naming its row and column.
    """
    blank = frame[_user_columns(frame)].astype(str).apply(lambda column: column.str.strip().eq("")).all(axis=1)
    if blank.any():
        rows = frame.loc[blank, ROW_COL].tolist()
        log.info(
            "%s: %d blank row(s) skipped (rows %s%s)", _file_of(frame), len(rows), rows[:5], " …" * (len(rows) > 5)
        )
        frame = frame[~blank]
    if frame.empty:
        raise InputError(_file_of(frame), "the table has a header but no rows")
    cols = find_columns(frame, id_col=id_col, text_col=text_col, label_col=label_col, need_label=need_label)
    frame = frame.copy()
    frame[cols.case_id] = frame[cols.case_id].astype(str).str.strip()
    if cols.role is not None:
        cases = turns_to_cases(frame, cols)
    else:
        renames = {cols.case_id: "case_id", cols.text: "text", cols.label: "label", cols.secondary: "secondary"}
        cases = frame.rename(columns={k: v for k, v in renames.items() if k is not None})
    if need_label:
        cases["label"] = normalize_labels(cases["label"], cases, cols.label or "label", allow_labels)
        if cols.secondary is not None:
            cases["secondary"] = _secondary(cases, cols.secondary, allow_labels)
    return validate(cases, labeled=need_label)


def _secondary(cases: pd.DataFrame, column: str, allow_labels: Iterable[str]) -> pd.Series:
    """The secondary labels as codes, "" where a case has none or repeats its own label."""
    secondary = normalize_labels(cases["secondary"], cases, column, allow_labels, optional=True)
    return secondary.where(secondary != cases["label"], "")


def read_cases(
    path: str | Path,
    *,
    need_label: bool,
    sheet: str | None = None,
    id_col: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    allow_labels: Iterable[str] = (),
) -> pd.DataFrame:
    """Validated cases of a file, or of every table file in a folder, each file read on its own terms.

    A folder may mix exports with different accepted headers (``text`` here, ``投诉内容`` there) and chats as
    one row per turn beside whole texts: each file's columns are found and turned into cases before the
    files are joined, never matched by name across files. Columns a file lacks are empty in its rows.
    """
    parts = [
        to_cases(
            read_table(file, sheet),
            need_label=need_label,
            id_col=id_col,
            text_col=text_col,
            label_col=label_col,
            allow_labels=allow_labels,
        )
        for file in table_files(path)
    ]
    if len(parts) == 1:
        return parts[0]
    cases = pd.concat(parts, ignore_index=True).fillna("")
    if need_label:  # each file is valid on its own; only an id labeled differently in two files is left to find
        _check_conflicting_duplicates(cases)
    return cases


def unlabeled_texts(
    path: str | Path, *, sheet: str | None = None, id_col: str | None = None, text_col: str | None = None
) -> list[str]:
    """The texts of an unlabeled export (a file, or every table file of a folder), for few-label training.

    Unlabeled exports usually come from the system that made the labeled one, so ``sheet``, ``id_col`` and
    ``text_col`` (the labeled export's options) are used in each file that has such a sheet or header; a file
    without it is read as it comes (first non-empty sheet, headers by alias). A file needs no case id unless its chats come as one row per turn. Rows without text, and turn
    rows without a case id (which could not be told from other chats' turns), are skipped and named in the
    log: a few empty cells among thousands of unlabeled rows should not stop a training, and no output row
    depends on them.
    """
    texts: list[str] = []
    for file in table_files(path):
        frame = read_table(file, sheet if sheet and has_sheet(file, sheet) else None)
        role = _find(frame, "role", None)
        try:
            cols = find_columns(
                frame,
                id_col=id_col if id_col in frame.columns else None,
                text_col=text_col if text_col in frame.columns else None,
                need_label=False,
                need_id=False,
            )
        except InputError as exc:
            turns = f" Its column '{role}' makes its rows chat turns, which only a case id can join." if role else ""
            raise InputError(
                exc.file,
                f"{exc.message}.{turns} In an unlabeled file, --sheet/--id-col/--text-col apply where it has that sheet or header",
            ) from None
        if cols.role is not None:
            ids = frame[cols.case_id].astype(str).str.strip()
            _log_skipped(frame, ids.eq(""), cols.case_id, "chat turn(s) without a case id")
            found = turns_to_cases(frame[ids.ne("")].assign(**{cols.case_id: ids}), cols)["text"]
        else:
            found = frame[cols.text].fillna("").astype(str)
            empty = found.str.strip().eq("")
            _log_skipped(frame, empty, cols.text, "row(s) without text")
            found = found[~empty]
        texts.extend(found)
    return texts


def _log_skipped(frame: pd.DataFrame, skipped: pd.Series, column: str, what: str) -> None:
    """Log the unlabeled rows left out: file, how many, column and first rows."""
    if skipped.any():
        rows = frame.loc[skipped, ROW_COL].tolist()
        log.info(
            "%s: %d unlabeled %s skipped (column '%s', rows %s%s)",
            _file_of(frame),
            len(rows),
            what,
            column,
            rows[:5],
            " …" * (len(rows) > 5),
        )
