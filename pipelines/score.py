"""Batch scoring: a dispute export in, the same rows out with the responsible party predicted for each.

The input is read and scored in chunks, so memory stays bounded whatever the file size; the model runs
once per chunk (vectorized), never once per row. Every row comes out, in its order, with every input
column: a row that cannot be scored keeps its place with the reason in ``score_error``, and only a
problem with a whole file (unreadable, missing columns) stops the job. Each job is one MLflow run in
experiment ``liability-scoring``, which records counts and shares, never the texts.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from pipelines.cases import ROLE_MARKS, Columns, find_columns, turns_to_cases
from pipelines.config import CHAMPION_URI, PARTY_CODES, SCORING_EXPERIMENT, ZH_NAMES
from pipelines.export import OUTPUT_SUFFIXES, atomic_table
from pipelines.scoring_model import ModelIdentity, ScoringModel
from pipelines.tables import CHUNK_ROWS, FILE_COL, ROW_COL, Chunk, InputError, iter_table_chunks, table_files
from pipelines.text import clean_texts
from pipelines.tracking import experiment_id, use_store

log = logging.getLogger(__name__)

#: Reasons a row is not scored, as written in ``score_error``.
EMPTY_TEXT = "empty text"
UNDECODABLE = "undecodable bytes"
UNKNOWN_ROLE = "unknown speaker role in this chat"
MISSING_ID = "missing case id"

#: Appended columns that hold text.
_TEXT_SCORES = frozenset(
    ("party", "party_zh", "top_terms", "model_name", "model_version", "model_run_id", "score_error")
)

#: Called after each chunk with the rows written so far in this file and the share of the file read.
ProgressFn = Callable[[Path, int, float], None]


def score_columns(classes: list[str]) -> list[str]:
    """The columns appended to every input row, in order: one probability per party, then any other class."""
    probabilities = [f"p_{c}" for c in (*PARTY_CODES, *(c for c in classes if c not in PARTY_CODES))]
    return [
        "party",
        "party_zh",
        *probabilities,
        "confidence",
        "needs_review",
        "top_terms",
        "model_name",
        "model_version",
        "model_run_id",
        "score_error",
    ]


@dataclass
class ScoreSummary:
    """What a scoring job did: counts for the printed summary, the MLflow run and tests."""

    input: str
    outputs: list[str]
    model: ModelIdentity
    rows_read: int = 0
    rows_scored: int = 0
    #: Scored rows whose confidence is below the model's review threshold (unscored rows are flagged too).
    rows_to_review: int = 0
    word_tokens: int = 0
    unseen_tokens: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    parties: Counter[str] = field(default_factory=Counter)
    #: Wall time of the whole job, and the part of it spent loading the model.
    seconds: float = 0.0
    load_seconds: float = 0.0
    run_id: str = ""

    @property
    def rows_failed(self) -> int:
        return sum(self.failures.values())

    @property
    def review_share(self) -> float:
        """Share of scored rows the model is not sure enough about: the reviewers' workload."""
        return self.rows_to_review / self.rows_scored if self.rows_scored else 0.0

    @property
    def unseen_token_share(self) -> float:
        """Share of word tokens absent from the training vocabulary (over the first 1,000 scored texts of
        each chunk); rising values mean the input drifts away from what the model learned."""
        return self.unseen_tokens / self.word_tokens if self.word_tokens else 0.0

    def metrics(self) -> dict[str, float]:
        """The numbers logged to MLflow; party shares are over scored rows."""
        shares = {f"share_{p}": n / self.rows_scored for p, n in self.parties.items()} if self.rows_scored else {}
        return {
            "rows_read": self.rows_read,
            "rows_scored": self.rows_scored,
            "rows_failed": self.rows_failed,
            "review_share": self.review_share,
            "unseen_token_share": self.unseen_token_share,
            "rows_per_second": self.rows_read / (self.seconds - self.load_seconds) if self.seconds else 0.0,
            **shares,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record of the job (counts and names only: no input text ever leaves the input)."""
        return asdict(self) | {
            "metrics": self.metrics(),
            "failures": dict(self.failures),
            "parties": dict(self.parties),
        }


def default_output(path: Path) -> Path:
    """``<name>.scored<ext>`` beside the input (a folder gets a ``.scored`` folder); CSV when the input's
    format cannot be written."""
    if path.is_dir():
        return path.with_name(f"{path.name}.scored")
    suffix = path.suffix.lower() if path.suffix.lower() in OUTPUT_SUFFIXES else ".csv"
    return path.with_name(f"{path.stem}.scored{suffix}")


def output_paths(source: Path, files: list[Path], output: Path | None) -> list[Path]:
    """One output per input file: the given file, or for a folder one file per input inside the output folder."""
    if source.is_dir():
        folder = output or default_output(source)
        if folder.suffix.lower() in OUTPUT_SUFFIXES:
            raise InputError(source, f"the input is a folder, so the output must be a folder too (got '{folder}')")
        outputs = [folder / default_output(f).name for f in files]
    else:
        outputs = [output or default_output(source)]
    for path, out in zip(files, outputs, strict=True):
        if out.suffix.lower() not in OUTPUT_SUFFIXES:
            raise InputError(out, f"cannot write '{out.suffix}' files; use one of {', '.join(OUTPUT_SUFFIXES)}")
        if out.resolve() == path.resolve():
            raise InputError(path, "the output would overwrite the input; name another output")
    return outputs


def score(
    input: str | Path,
    output: str | Path | None = None,
    *,
    model_uri: str = CHAMPION_URI,
    sheet: str | None = None,
    id_col: str | None = None,
    text_col: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    allow_pickle: bool = False,
    on_chunk: ProgressFn | None = None,
) -> ScoreSummary:
    """Score a file or a folder of files with one model and record the job in MLflow."""
    started = time.perf_counter()
    source = Path(input)
    files = table_files(source)
    outputs = output_paths(source, files, Path(output) if output else None)
    client = use_store()
    with tempfile.TemporaryDirectory() as tmp:
        model = ScoringModel.load(client, model_uri, Path(tmp), allow_pickle)
    summary = ScoreSummary(str(source), [str(o) for o in outputs], model.identity)
    summary.load_seconds = time.perf_counter() - started
    for path, out in zip(files, outputs, strict=True):
        read_before = summary.rows_read
        chunks = iter_table_chunks(path, sheet, chunk_rows)
        first = next(chunks)
        cols = find_columns(first[0], id_col=id_col, text_col=text_col, need_label=False)
        chunks = chain([first], chunks)
        if cols.role is not None:
            chunks = whole_chats(chunks, cols.case_id)
        with atomic_table(out) as writer:
            for frame, done in chunks:
                writer.write(score_frame(model, frame, cols, summary))
                if on_chunk is not None:
                    on_chunk(path, writer.rows, done)
            if writer.rows != summary.rows_read - read_before:
                raise RuntimeError(f"{path}: read {summary.rows_read - read_before} rows but wrote {writer.rows}")
        log.info("%s: %d rows scored into %s", path, writer.rows, out)
    summary.seconds = time.perf_counter() - started
    summary.run_id = log_job(client, summary, source)
    return summary


def whole_chats(chunks: Iterator[Chunk], id_col: str) -> Iterator[Chunk]:
    """Chunks re-cut at chat boundaries: the last chat of a chunk waits for the rest of its turns.

    A chat is scored from all its turns, so its rows must not be split across chunks; this needs the
    export sorted by case id (as shop systems export chats). A chat whose turns come back after other
    chats is a whole-file problem, reported with the row where it reappears.
    """
    carry: pd.DataFrame | None = None
    finished: set[str] = set()
    yielded = False
    for frame, done in chunks:
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        if frame.empty:
            carry = frame
            continue
        ids = frame[id_col].astype(str).str.strip()
        runs = ids[ids.ne(ids.shift()) & ids.ne("")]
        split = runs.duplicated() | runs.isin(finished)
        if split.any():
            row = frame.loc[split.index[split.to_numpy()][0]]
            raise InputError(
                row[FILE_COL],
                f"the turns of chat '{str(row[id_col]).strip()}' are not next to each other; sort the export by "
                "case id (and turn) so that each chat is scored whole",
                row=int(row[ROW_COL]),
                column=id_col,
            )
        last = ids.iat[-1]
        tail = int((ids.iloc[::-1] == last).cummin().sum())
        finished.update(set(runs) - {last})
        ready, carry = frame.iloc[: len(frame) - tail], frame.iloc[len(frame) - tail :]
        if len(ready):
            yielded = True
            yield ready.reset_index(drop=True), done
    if carry is not None and (len(carry) or not yielded):
        yield carry.reset_index(drop=True), 1.0


def score_frame(model: ScoringModel, frame: pd.DataFrame, cols: Columns, summary: ScoreSummary) -> pd.DataFrame:
    """One chunk scored: the input columns (bookkeeping dropped) followed by :func:`score_columns`."""
    texts, case_of_row, row_error = (chat_cases if cols.role is not None else single_cases)(frame, cols)
    cleaned = clean_texts(texts)
    case_error = np.array(
        [
            UNDECODABLE if "\ufffd" in raw else "" if text else EMPTY_TEXT
            for raw, text in zip(texts, cleaned, strict=True)
        ]
        + [EMPTY_TEXT],  # the slot of rows that belong to no case
        dtype=object,
    )
    n_classes = len(model.classes)
    proba = np.full((len(texts) + 1, n_classes), np.nan)
    terms = np.full(len(texts) + 1, None, dtype=object)
    ok = np.flatnonzero(case_error == "")
    if ok.size:
        proba[ok], scored_terms, tokens, unseen = model.predict_proba([cleaned[i] for i in ok])
        terms[ok] = scored_terms
        summary.word_tokens += tokens
        summary.unseen_tokens += unseen
    case = np.where(case_of_row < 0, len(texts), case_of_row)
    error = np.where(row_error != "", row_error, case_error[case])
    scored = error == ""
    proba, terms = proba[case], terms[case]
    proba[~scored] = np.nan
    terms[~scored] = None
    known = np.nan_to_num(proba, nan=0.0)
    party = np.where(scored, np.asarray(model.classes, dtype=object)[known.argmax(axis=1)], None)
    confidence = np.where(scored, known.max(axis=1), np.nan)
    needs_review = ~(confidence >= model.review_threshold)  # NaN (unscored) compares False: flagged

    out = frame.drop(columns=[FILE_COL, ROW_COL])
    names = score_columns(model.classes)
    clashing = [c for c in out.columns if c in names]
    if clashing:
        out = out.rename(columns={c: f"{c}_input" for c in clashing})
    values: dict[str, Any] = {"party": party, "party_zh": [ZH_NAMES.get(p, p) if p else None for p in party]}
    for name in names:
        if name.startswith("p_"):
            code = name.removeprefix("p_")
            column = proba[:, model.classes.index(code)] if code in model.classes else np.where(scored, 0.0, np.nan)
            values[name] = column
    values |= {
        "confidence": confidence,
        "needs_review": needs_review,
        "top_terms": terms,
        "model_name": model.identity.name,
        "model_version": model.identity.version,
        "model_run_id": model.identity.run_id,
        "score_error": np.where(scored, None, error),
    }
    # Text columns stay plain objects with None for "no value", whatever a chunk holds, so that every chunk
    # of a file has the same column types (pandas would infer a different one for an all-empty column).
    scores = pd.DataFrame(
        {n: pd.Series(v, index=out.index, dtype=object if n in _TEXT_SCORES else None) for n, v in values.items()}
    )
    result = pd.concat([out, scores[names]], axis=1)
    if len(result) != len(frame):
        raise RuntimeError(f"scoring changed the number of rows of a chunk: {len(frame)} in, {len(result)} out")

    summary.rows_read += len(frame)
    summary.rows_scored += int(scored.sum())
    summary.rows_to_review += int((needs_review & scored).sum())
    summary.failures.update(error[~scored].tolist())
    summary.parties.update(party[scored].tolist())
    return result


def single_cases(frame: pd.DataFrame, cols: Columns) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One case per row: its text, the row → case map (identity) and no row-level errors."""
    n = len(frame)
    return frame[cols.text].astype(str).tolist(), np.arange(n), np.full(n, "", dtype=object)


def chat_cases(frame: pd.DataFrame, cols: Columns) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One case per chat (turn rows joined as in training), the row → case map, and row-level errors.

    Training stops at an unknown speaker role; scoring marks that chat's rows instead, since a chat with
    an unreadable speaker cannot be told apart buyer from agent. Rows of a chat with no text at all map
    to no case (-1) and come out as ``empty text``.
    """
    ids = frame[cols.case_id].astype(str).str.strip()
    has_text = frame[cols.text].astype(str).str.strip().ne("")
    unknown = frame[cols.role].astype(str).str.strip().str.lower().map(ROLE_MARKS).isna() & has_text
    error = np.full(len(frame), "", dtype=object)
    error[ids.isin(set(ids[unknown])).to_numpy()] = UNKNOWN_ROLE
    error[ids.eq("").to_numpy()] = MISSING_ID
    usable = frame[error == ""].assign(**{cols.case_id: ids[error == ""]})
    if usable.empty:
        return [], np.full(len(frame), -1), error
    cases = turns_to_cases(usable, replace(cols, label=None))
    return cases["text"].tolist(), pd.Index(cases["case_id"]).get_indexer(ids), error


def log_job(client: MlflowClient, summary: ScoreSummary, source: Path) -> str:
    """Record the job as a run in ``liability-scoring``: names, counts and shares, never texts."""
    with mlflow.start_run(
        experiment_id=experiment_id(client, SCORING_EXPERIMENT), run_name=f"score-{source.name}"
    ) as run:
        mlflow.log_params(
            {
                "input": source.name,
                "input_files": len(summary.outputs),
                "rows": summary.rows_read,
                "model_name": summary.model.name,
                "model_version": summary.model.version,
                "model_run_id": summary.model.run_id,
            }
        )
        mlflow.log_metrics(summary.metrics())
        mlflow.log_dict(summary.to_dict() | {"run_id": run.info.run_id}, "summary.json")
    return run.info.run_id
