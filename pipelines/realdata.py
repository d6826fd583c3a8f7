"""Real data: the adjudicated gold file and the unlabeled pool, rendered exactly as the gold texts are.

The gold cases were drawn from the pool, so a pool text must be rendered the same way (chat turns as
``买家：``/``客服：`` lines, complaint records as title + newline + body) for exact duplicates to be found
and for weak labels to transfer. The files are read in place and never copied into the project.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.cases import unlabeled_texts
from pipelines.config import AGENT_MARK, BUYER_MARK

GOLD_FILE = Path("gold") / "dev.csv"
#: Pool files of the dispute domain; waimai (food delivery) is a neighbouring domain and left out.
POOL_FILES: tuple[str, ...] = ("reviews.csv", "chats.csv", "summaries.csv", "complaints.jsonl")
GENRES: tuple[str, ...] = ("review", "chat", "complaint", "summary")


def load_gold(real_dir: Path) -> pd.DataFrame:
    """``gold/dev.csv`` as ``case_id, genre, text, label, secondary, agreement`` (empty strings kept)."""
    return pd.read_csv(real_dir / GOLD_FILE, dtype=str, keep_default_na=False)


def _chats(path: Path) -> pd.DataFrame:
    """The pool's chats, one text per session. Not :func:`~pipelines.cases.turns_to_cases`, which strips each
    turn: the gold chats were rendered from these turns unstripped, and must be found in the pool exactly."""
    turns = pd.read_csv(path, dtype={"case_id": str, "role": str, "text": str}, keep_default_na=False)
    turns = turns.sort_values(["case_id", "turn"], kind="stable")
    marks = turns["role"].map({"buyer": BUYER_MARK, "agent": AGENT_MARK}).fillna("")
    lines = turns.assign(line=marks + turns["text"])
    return lines.groupby("case_id", sort=False)["line"].agg("\n".join).rename("text").reset_index()


def _complaints(path: Path) -> pd.DataFrame:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pd.DataFrame(
        {"case_id": [r["case_id"] for r in records], "text": [f"{r['title']}\n{r['text']}" for r in records]}
    )


def load_pool(real_dir: Path) -> pd.DataFrame:
    """The unlabeled pool of ``real_dir/real`` as ``case_id, genre, text`` (about 30k cases)."""
    real = real_dir / "real"
    parts = [
        pd.read_csv(real / "reviews.csv", dtype=str, keep_default_na=False)[["case_id", "text"]].assign(genre="review"),
        _chats(real / "chats.csv").assign(genre="chat"),
        pd.read_csv(real / "summaries.csv", dtype=str, keep_default_na=False)[["case_id", "text"]].assign(
            genre="summary"
        ),
        _complaints(real / "complaints.jsonl").assign(genre="complaint"),
    ]
    pool = pd.concat(parts, ignore_index=True)[["case_id", "genre", "text"]]
    return pool[pool["text"].str.strip().ne("")].reset_index(drop=True)


def pool_root(path: Path) -> Path | None:
    """The real-data root if ``path`` is one (or its ``real/`` folder) laid out like ``../shared/data``."""
    for root in (path, path.parent):
        if all((root / "real" / name).is_file() for name in POOL_FILES):
            return root
    return None


@dataclass(frozen=True)
class Unlabeled:
    """The unlabeled texts of a training run, deduplicated and read once for all its fits, and their paths."""

    sources: tuple[str, ...]
    texts: tuple[str, ...]


def load_unlabeled(
    paths: Iterable[Path], *, sheet: str | None = None, id_col: str | None = None, text_col: str | None = None
) -> Unlabeled:
    """Texts of unlabeled exports, in any format training accepts (chat turns included), deduplicated.

    A real-data folder laid out like ``../shared/data`` is read with :func:`load_pool`; any other file
    or folder with :func:`~pipelines.cases.unlabeled_texts`, where ``sheet``/``id_col``/``text_col`` name a
    sheet or columns in the files that have them (a label column, if any, is ignored).
    """
    paths = [Path(p) for p in paths]
    texts: list[str] = []
    for path in paths:
        root = pool_root(path) if path.is_dir() else None
        if root is not None:
            texts.extend(load_pool(root)["text"])
        else:
            texts.extend(unlabeled_texts(path, sheet=sheet, id_col=id_col, text_col=text_col))
    return Unlabeled(tuple(map(str, paths)), tuple(dict.fromkeys(t for t in texts if t.strip())))
