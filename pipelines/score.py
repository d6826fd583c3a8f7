"""Batch scoring: a dispute export in, the same rows out with the responsible party predicted for each.

The input is read in chunks, so memory stays bounded whatever the file size; the model runs on tasks of
up to 5,000 new texts at once (vectorized, on one worker process per core), never once per row, and a
text repeated in a file is scored once. Every row comes out, in its order, with every input
column: a row that cannot be scored keeps its place with the reason in ``score_error``, and only a
problem with a whole file (unreadable, missing columns) stops the job. Each job is one MLflow run in
experiment ``liability-scoring``, which records counts and shares, never the texts.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipelines.cases import ROLE_MARKS, Columns, find_columns, turns_to_cases
from pipelines.config import CHAMPION_URI, PARTY_CODES, ZH_NAMES
from pipelines.export import OUTPUT_SUFFIXES, atomic_table, check_output
from pipelines.forks import finished, process_pool
from pipelines.job_store import JobStore, find_folder
from pipelines.registry import import_loader
from pipelines.scoring_model import DRIFT_SAMPLE, ModelIdentity, ScoringModel
from pipelines.tables import (
    CHUNK_ROWS,
    ERROR_COL,
    FILE_COL,
    PLACE_COLUMNS,
    ROW_COL,
    Chunk,
    InputError,
    iter_table_chunks,
    table_files,
)
from pipelines.text import clean_texts
from pipelines.tokenize import load_dictionary

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

#: Cases per task given to a worker process: a 20,000-row chunk makes four, so both cores get work from
#: the first chunk on, and each task still spends its time in vectorized code, not in passing messages.
TASK_CASES = 5_000

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
    #: Whole-file errors of a folder's files that were skipped (their rows are in no output and no count).
    failed_files: list[str] = field(default_factory=list)

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
    """One output per input file: the given file, or for a folder one file per input inside the output folder.

    Checked before any scoring, so that a job never scores for minutes and then cannot write: two inputs of
    a folder that would share an output (``a.csv`` and ``a.txt``) are named in full (``a.csv.scored.csv``).
    """
    if source.is_dir():
        folder = output or default_output(source)
        if folder.suffix.lower() in OUTPUT_SUFFIXES:
            raise InputError(source, f"the input is a folder, so the output must be a folder too (got '{folder}')")
        defaults = [default_output(f) for f in files]
        names = [d.name for d in defaults]
        outputs = [
            folder / (f"{f.name}.scored{d.suffix}" if names.count(d.name) > 1 else d.name)
            for f, d in zip(files, defaults, strict=True)
        ]
    else:
        outputs = [output or default_output(source)]
    for path, out in zip(files, outputs, strict=True):
        if out.resolve() == path.resolve():
            raise InputError(path, "the output would overwrite the input; name another output")
        check_output(out)
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
    workers: int | None = None,
) -> ScoreSummary:
    """Score a file or a folder of files with one model and record the job in MLflow.

    ``workers`` processes score at once (default: every core this process may use; 1 scores in-process).

    In a folder, a file with a whole-file problem is skipped so that the good files are still scored and
    recorded, then the job fails naming every skipped file: a nightly export with one broken file must
    neither lose the other files' results nor pass as complete.
    """
    started = time.perf_counter()
    source = Path(input)
    files = table_files(source)
    outputs = output_paths(source, files, Path(output) if output else None)
    with JobStore() as store:
        model = load_model(store, model_uri, allow_pickle)
        summary = ScoreSummary(str(source), [str(o) for o in outputs], model.identity)
        summary.load_seconds = time.perf_counter() - started
        for path, out in zip(files, outputs, strict=True):
            before = copy.deepcopy(summary)
            try:
                read_before = summary.rows_read
                chunks = iter_table_chunks(path, sheet, chunk_rows)
                first = next(chunks)
                cols = find_columns(first[0], id_col=id_col, text_col=text_col, need_label=False)
                chunks = chain([first], chunks)
                if cols.role is not None:
                    chunks = whole_chats(chunks, cols.case_id)
                with atomic_table(out) as writer:
                    for frame, done in scored_chunks(model, chunks, cols, summary, workers or default_workers()):
                        writer.write(frame)
                        if on_chunk is not None:
                            on_chunk(path, writer.rows, done)
                    if writer.rows != summary.rows_read - read_before:
                        raise RuntimeError(
                            f"{path}: read {summary.rows_read - read_before} rows but wrote {writer.rows}"
                        )
            except InputError as exc:
                if len(files) == 1:
                    raise
                log.error("skipped: %s", exc)
                summary = before  # counts of a file that was not written would not add up
                summary.outputs.remove(str(out))
                summary.failed_files.append(str(exc))
                continue
            log.info("%s: %d rows written to %s", path, writer.rows, out)
        summary.seconds = time.perf_counter() - started
        summary.run_id = store.record(summary, source)
    if summary.failed_files:
        raise InputError(
            source,
            f"{len(summary.failed_files)} of {len(files)} files could not be scored (the others were written): "
            + "; ".join(summary.failed_files),
        )
    return summary


def load_model(store: JobStore, model_uri: str, allow_pickle: bool) -> ScoringModel:
    """The job's model, loaded while the store helper opens the store on the other core.

    A model folder needs no store: it is loaded and prepared meanwhile (explanation and lookup indexes,
    which the forked workers then share). A registry model is loaded once the helper has resolved and
    downloaded it; meanwhile this process imports the loader, and the workers prepare the model on their
    first task. Either way an unreachable store fails the job here, before any scoring.
    """
    with tempfile.TemporaryDirectory() as tmp:
        finding = store.find_model(model_uri, Path(tmp))
        load_dictionary()
        found = find_folder(model_uri)
        if found is not None:
            model = ScoringModel.load(found.local_dir, found.mlmodel, found.identity, allow_pickle)
            model.prepare()
        else:
            import_loader()
            found = finding.result()
            model = ScoringModel.load(found.local_dir, found.mlmodel, found.identity, allow_pickle)
        finding.result()
    return model


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


@dataclass(frozen=True)
class CaseScores:
    """What the model says about a batch of cases: small arrays, cheap to send back from a worker process."""

    error: np.ndarray  # per case: "" when scored, else the reason it was not
    proba: np.ndarray  # (cases, classes); NaN where not scored
    terms: np.ndarray  # per case: top terms, None where not scored
    tokens: int  # drift sample: word tokens, and those missing from the vocabulary
    unseen: int

    @classmethod
    def gather(
        cls, tasks: list[CaseScores], task: np.ndarray, pos: np.ndarray, n_classes: int, fresh: int
    ) -> CaseScores:
        """A chunk's cases from the tasks that scored them (case ``i`` is row ``pos[i]`` of ``tasks[task[i]]``),
        plus a last slot, not scored, for rows of no case.

        The drift counts are those of the last ``fresh`` tasks, the ones scored for this chunk: a task
        whose texts came back in a later chunk must not count its tokens twice.
        """
        own = tasks[len(tasks) - fresh :]
        starts = np.cumsum([0, *(len(t.error) for t in tasks)])
        at = np.append(starts[:-1][task] + pos, starts[-1])
        return cls(
            np.concatenate([*(t.error for t in tasks), [EMPTY_TEXT]]).astype(object)[at],
            np.vstack([*(t.proba for t in tasks), np.full((1, n_classes), np.nan)])[at],
            np.concatenate([*(t.terms for t in tasks), [None]]).astype(object)[at],
            sum(t.tokens for t in own),
            sum(t.unseen for t in own),
        )


def score_cases(model: ScoringModel, texts: list[str], drift_sample: int) -> CaseScores:
    """Clean and score case texts: the CPU-heavy part of a chunk, run in this process or in a worker."""
    cleaned = clean_texts(texts)
    error = np.array(
        [
            UNDECODABLE if "\ufffd" in raw else "" if text else EMPTY_TEXT
            for raw, text in zip(texts, cleaned, strict=True)
        ],
        dtype=object,
    )
    proba = np.full((len(texts), len(model.classes)), np.nan)
    terms = np.full(len(texts), None, dtype=object)
    tokens = unseen = 0
    ok = np.flatnonzero(error == "")
    if ok.size:
        proba[ok], scored_terms, tokens, unseen = model.predict_proba([cleaned[i] for i in ok], drift_sample)
        terms[ok] = scored_terms
    return CaseScores(error, proba, terms, tokens, unseen)


def case_tasks(texts: list[str]) -> list[tuple[list[str], int]]:
    """A chunk's case texts cut into tasks of :data:`TASK_CASES`, the drift sample taken from the first."""
    return [(texts[i : i + TASK_CASES], DRIFT_SAMPLE if i == 0 else 0) for i in range(0, len(texts), TASK_CASES)]


def score_frame(model: ScoringModel, frame: pd.DataFrame, cols: Columns, summary: ScoreSummary) -> pd.DataFrame:
    """One chunk scored in this process: the input columns (bookkeeping dropped) then :func:`score_columns`."""
    ((scored, _),) = scored_chunks(model, iter([(frame, 1.0)]), cols, summary, workers=1)
    return scored


#: Characters of distinct case texts whose scores a job keeps, so that a text that comes back in a later
#: chunk is not scored again. Short texts cost the most per character: 200,000 texts of 48 characters
#: hold about 115 MB (37 MB of text, the rest index and scores; measured at twice this size).
CACHE_CHARS = 10_000_000


class ScoreCache:
    """Where each text of a file already sent for scoring gets its scores: a task and a row in it.

    Exports repeat texts across the whole file (template complaints, default reviews, a chat exported
    twice), not only within one chunk. A case's scores depend on its text alone, so reusing them changes
    no output. When full, the cache starts over: memory stays bounded, and the cost is some rescoring.
    """

    def __init__(self, limit_chars: int = CACHE_CHARS) -> None:
        self.limit_chars = limit_chars
        self._chars = 0
        self._places: dict[str, tuple[int, int]] = {}  # text → (task number, row in the task)
        self._futures: list[Future[CaseScores]] = []  # by task number

    def make_room(self) -> None:
        """Start over when full; called before a chunk, so a chunk's texts are all found or all added."""
        if self._chars > self.limit_chars:
            self._places.clear()
            self._futures.clear()
            self._chars = 0

    def unseen(self, texts: list[str]) -> list[str]:
        places = self._places
        return [text for text in texts if text not in places]

    def add(self, tasks: list[tuple[list[str], int]], futures: list[Future[CaseScores]]) -> None:
        """Note the texts of ``tasks`` as scored by ``futures`` (one per task)."""
        for (batch, _), future in zip(tasks, futures, strict=True):
            number = len(self._futures)
            self._futures.append(future)
            self._places.update({text: (number, k) for k, text in enumerate(batch)})
            self._chars += sum(map(len, batch))

    def locate(self, texts: list[str]) -> tuple[list[Future[CaseScores]], np.ndarray, np.ndarray]:
        """The tasks that score ``texts`` (oldest first), and for each text its task's index there and its row."""
        places = self._places
        at = np.array([places[text] for text in texts], dtype=np.intp).reshape(-1, 2)
        numbers, task = np.unique(at[:, 0], return_inverse=True)
        return [self._futures[n] for n in numbers], task, at[:, 1]


#: The model of a worker process, set once by :func:`_start_worker` (a forked worker inherits it unpickled).
_WORKER_MODEL: ScoringModel | None = None


def _start_worker(model: ScoringModel) -> None:
    """Keep the model for every task; one BLAS/OpenMP thread, since the processes already fill the cores."""
    global _WORKER_MODEL
    _WORKER_MODEL = model
    threadpool_limits(limits=1)


def _worker_task(texts: list[str], drift_sample: int) -> CaseScores:
    if _WORKER_MODEL is None:
        raise RuntimeError("scoring worker started without a model")
    return score_cases(_WORKER_MODEL, texts, drift_sample)


def default_workers() -> int:
    """Processes that score at once: the cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_pool(model: ScoringModel, workers: int) -> ProcessPoolExecutor:
    """Worker processes holding the model: forked where possible, so the loaded model is shared, not reloaded."""
    return process_pool(workers, _start_worker, (model,))


class _Waiting(NamedTuple):
    """A chunk read and sent for scoring: its case ``i`` will be row ``pos[i]`` of ``futures[task[i]]``,
    and its own tasks are the last ``fresh`` futures."""

    frame: pd.DataFrame
    done: float
    case_of_row: np.ndarray
    row_error: np.ndarray
    futures: list[Future[CaseScores]]
    task: np.ndarray
    pos: np.ndarray
    fresh: int


def scored_chunks(
    model: ScoringModel, chunks: Iterator[Chunk], cols: Columns, summary: ScoreSummary, workers: int
) -> Iterator[Chunk]:
    """The chunks scored, in order: across ``workers`` processes once a file needs more than one task.

    This process reads, assembles and writes; the workers clean, vectorize, predict and explain, which
    is most of the work. At most ``workers`` chunks wait beyond the one being read, so memory stays
    bounded, and a row's scores never depend on its neighbours, so the output is the same byte for byte
    whatever the number of workers. A one-task file (and a one-case cold start) starts no process at all.
    A text already sent for scoring earlier in the file is not sent again (:class:`ScoreCache`).
    """
    pool: ProcessPoolExecutor | None = None
    cache = ScoreCache()
    pending: deque[_Waiting] = deque()
    n_chunks = 0
    frozen = False

    def finish() -> Chunk:
        chunk = pending.popleft()
        tasks = [future.result() for future in chunk.futures]
        cases = CaseScores.gather(tasks, chunk.task, chunk.pos, len(model.classes), chunk.fresh)
        return scores_frame(model, chunk.frame, chunk.case_of_row, chunk.row_error, cases, summary), chunk.done

    try:
        for frame, done in chunks:
            texts, case_of_row, row_error = frame_cases(frame, cols)
            cache.make_room()
            tasks = case_tasks(cache.unseen(texts))
            n_chunks += 1
            if pool is None and workers > 1 and (n_chunks > 1 or len(tasks) > 1):
                # Objects that exist now (the model above all) leave the collector's reach until the job ends:
                # a forked worker would otherwise copy every page they sit on when its collector walks them,
                # and walk them again and again (about a tenth of the workers' time).
                gc.freeze()
                frozen = True
                pool = _worker_pool(model, workers)
            futures = [
                pool.submit(_worker_task, *task) if pool else finished(score_cases(model, *task)) for task in tasks
            ]
            cache.add(tasks, futures)
            pending.append(_Waiting(frame, done, case_of_row, row_error, *cache.locate(texts), len(futures)))
            while len(pending) > (workers if pool else 0):
                yield finish()
        while pending:
            yield finish()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if frozen:
            gc.unfreeze()


def frame_cases(frame: pd.DataFrame, cols: Columns) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A chunk's distinct case texts, its row → case map and row-level errors (see :func:`chat_cases`).

    Exports repeat texts (default reviews, template complaints, the same chat exported twice); a text is
    scored once and its scores go to every row that holds it (across chunks, :class:`ScoreCache` does
    the same). A case's scores depend on its text alone, so this changes no output, only the work.
    """
    texts, case_of_row, row_error = (chat_cases if cols.role is not None else single_cases)(frame, cols)
    row_error = np.where(row_error == "", undecodable_columns(frame, cols.text), row_error)
    if ERROR_COL in frame:  # a line the reader could not read: that is all there is to say about its row
        unread = frame[ERROR_COL].to_numpy(dtype=object)
        row_error = np.where(unread != "", unread, row_error)
    codes, distinct = pd.factorize(np.asarray(texts, dtype=object))
    if len(distinct) == len(texts):
        return texts, case_of_row, row_error
    return distinct.tolist(), np.where(case_of_row < 0, -1, codes[case_of_row]), row_error


def scores_frame(
    model: ScoringModel,
    frame: pd.DataFrame,
    case_of_row: np.ndarray,
    row_error: np.ndarray,
    cases: CaseScores,
    summary: ScoreSummary,
) -> pd.DataFrame:
    """A chunk's output from its cases' scores: every row in order, with its case's scores or its error."""
    case_error, proba, terms = cases.error, cases.proba, cases.terms
    summary.word_tokens += cases.tokens
    summary.unseen_tokens += cases.unseen
    case = np.where(case_of_row < 0, len(case_error) - 1, case_of_row)
    error = np.where(row_error != "", row_error, case_error[case])
    scored = error == ""
    proba, terms = proba[case], terms[case]
    proba[~scored] = np.nan
    terms[~scored] = None
    known = np.nan_to_num(proba, nan=0.0)
    party = np.where(scored, np.asarray(model.classes, dtype=object)[known.argmax(axis=1)], None)
    confidence = np.where(scored, known.max(axis=1), np.nan)
    needs_review = ~(confidence >= model.review_threshold)  # NaN (unscored) compares False: flagged

    out = frame.drop(columns=[c for c in PLACE_COLUMNS if c in frame])
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


def undecodable_columns(frame: pd.DataFrame, text_col: str) -> np.ndarray:
    """Per row, ``undecodable bytes in column '…'`` naming the first column besides the text that holds bytes
    the file's encoding could not decode (read as U+FFFD), else "".

    Such a row's case id or other fields are no longer what the export holds, so its scores could not be
    matched back to the case: it is marked, as a damaged text is.
    """
    error = np.full(len(frame), "", dtype=object)
    for column in reversed([c for c in frame.columns if c != text_col and c not in PLACE_COLUMNS]):
        hit = frame[column].astype(str).str.contains("\ufffd", regex=False).to_numpy(dtype=bool)
        error[hit] = undecodable_in(column)
    return error


def undecodable_in(column: str) -> str:
    """The ``score_error`` of a row whose cell in ``column`` (not the text) holds undecodable bytes."""
    return f"{UNDECODABLE} in column '{column}'"


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
    error[(ids.eq("") & has_text).to_numpy()] = MISSING_ID  # a blank row is an empty text, not a lost turn
    usable = frame[error == ""].assign(**{cols.case_id: ids[error == ""]})
    if usable.empty:
        return [], np.full(len(frame), -1), error
    cases = turns_to_cases(usable, replace(cols, label=None))
    return cases["text"].tolist(), pd.Index(cases["case_id"]).get_indexer(ids), error
