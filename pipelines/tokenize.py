"""The model's tokenizer: Chinese word segmentation with chat roles, placeholders and a user dictionary.

:func:`tokenize` is referenced by name from saved vectorizers, so its module path and behaviour are part of
every saved model. It runs on text already passed through :func:`pipelines.text.clean`.

Two segmentation backends exist: rjieba (Rust, fast, used by the model) and jieba (pure Python, the
reference). They disagree on non-Han text (rjieba keeps ``9.5g``, ``1-2``, ``t.cn`` together, jieba splits
them), so each line is first cut into atoms (placeholders and protected user-dictionary terms), Han runs
and non-Han runs; only Han runs reach the backend, and non-Han runs go through one regex rule shared by
both. With the same user dictionary loaded into both, the two backends then give identical tokens. (The
rjieba path hands a stretch of Han runs and plain punctuation to the backend in one call, which gives the
same tokens; jieba, the reference, always goes run by run, so the parity tests check that too.)

User dictionary format (``resources/userdict.txt``, jieba's own): ``word [freq] [tag]`` per line. A word
made only of Han characters goes to the segmenters; when freq is omitted, rjieba's suggested frequency is
used and handed to jieba too, so that both dictionaries hold exactly the same counts. A word with any
other character (``plus会员``, ``双11``, ``88vip``) is a protected term, matched before the run split.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import rjieba

from pipelines.config import AGENT_MARK, BUYER_MARK, RESOURCES_DIR

Backend = Literal["rjieba", "jieba"]

USERDICT_FILE = RESOURCES_DIR / "userdict.txt"
STOPWORDS_FILE = RESOURCES_DIR / "stopwords.txt"
#: Prefix of every token that comes from a customer-service agent's line of a chat.
AGENT_PREFIX = "客服|"

# Exactly the range that both jieba and jieba-rs treat as Han; nothing else reaches a backend but plain punctuation.
_HAN = "\u4e00-\u9fd5"
_HAN_WORD = re.compile(f"[{_HAN}]+")
# A speaker marker at the start of a line; NFKC turns the full-width colon into ":", so accept both.
_MARKER = re.compile(rf"[ \t]*({re.escape(BUYER_MARK[:-1])}|{re.escape(AGENT_MARK[:-1])})[ \t]*[:：][ \t]*")
_AGENT = AGENT_MARK[:-1]
# Placeholders written by masking ([订单x]) or found in the data ([数字], [商品快照]) stay single tokens.
_PLACEHOLDER = rf"\[[{_HAN}]{{1,8}}x?\]"
# One line split into Han runs (group 1) and non-Han tokens (group 2). The non-Han rule, shared by both
# backends: an ASCII letter/digit run that continues through "." only when a digit follows (9.5g, v1.2,
# but t / cn); a run of other letters or digits (kana, Hangul, Latin with accents, rare CJK outside the
# Han range); a single emoji or pictographic symbol. Whitespace and punctuation are dropped.
_RUNS = re.compile(
    rf"([{_HAN}]+)"
    rf"|([0-9a-zA-Z]+(?:\.[0-9]+[0-9a-zA-Z]*)*|[^\W_0-9a-zA-Z{_HAN}]+|[\U0001F000-\U0001FAFF\u2600-\u27BF])"
)


# Punctuation and spaces (as cleaned text has them, after NFKC) that neither backend ever joins to a word: none
# of the characters both add to Han words in a block (ASCII letters and digits, + # & . _ % -), no bracket that
# opens a placeholder, no letter the non-Han rule keeps.
_PLAIN_PUNCTUATION = " \t,!?:;()\"'~/*@=<>^|`{}。、“”‘’《》【】〔〕「」『』—·"


@dataclass(frozen=True)
class _Resources:
    """Everything read from the resource files, built once per process."""

    han_words: tuple[tuple[str, int | None, str | None], ...]
    atoms: re.Pattern[str]
    stopwords: frozenset[str]
    #: A line of Han runs and :data:`_PLAIN_PUNCTUATION` alone (less any character of a protected term).
    plain_line: re.Pattern[str]
    #: What a backend's cut of such a line gives that is not kept: stopwords and the plain characters.
    plain_dropped: frozenset[str]


def _read_lines(path: Path) -> list[str]:
    """Non-empty stripped lines of a UTF-8 resource file."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _parse_userdict(lines: list[str]) -> list[tuple[str, int | None, str | None]]:
    """``word [freq] [tag]`` lines as tuples; ASCII is lower-cased because cleaned text is."""
    entries = []
    for line in lines:
        word, *rest = line.split()
        freq = int(rest[0]) if rest else None
        tag = rest[1] if len(rest) > 1 else None
        entries.append((word.lower(), freq, tag))
    return entries


def _protected_pattern(term: str) -> str:
    """A regex for a protected term that will not match inside a longer ASCII word or number."""
    pattern = re.escape(term)
    if term[0].isascii() and term[0].isalnum():
        pattern = r"(?<![0-9a-zA-Z])" + (r"(?<![0-9a-zA-Z]\.)" if term[0].isdigit() else "") + pattern
    if term[-1].isascii() and term[-1].isalnum():
        pattern += r"(?![0-9a-zA-Z]|\.[0-9])"
    return pattern


@functools.cache
def _resources() -> _Resources:
    """Read the user dictionary and stopwords once per process (never per text)."""
    entries = _parse_userdict(_read_lines(USERDICT_FILE))
    han_words = tuple(e for e in entries if _HAN_WORD.fullmatch(e[0]))
    protected = sorted({e[0] for e in entries if not _HAN_WORD.fullmatch(e[0])}, key=lambda t: (-len(t), t))
    atoms = "|".join([_PLACEHOLDER, *map(_protected_pattern, protected)])
    # Python's re tries every alternative at every position; a look-ahead on the possible first characters
    # rejects most positions at once (the split took a sixth of the tokenizer's time before).
    first = re.escape("".join(sorted({"[", *(term[0] for term in protected)})))
    plain = "".join(sorted(set(_PLAIN_PUNCTUATION) - {c for term in protected for c in term}))
    stopwords = frozenset(_read_lines(STOPWORDS_FILE))
    return _Resources(
        han_words=han_words,
        atoms=re.compile(f"((?=[{first}])(?:{atoms}))"),
        stopwords=stopwords,
        plain_line=re.compile(f"[{_HAN}{re.escape(plain)}]*"),
        plain_dropped=stopwords | set(plain),
    )


@functools.cache
def _rjieba() -> tuple[rjieba.Jieba, tuple[int, ...]]:
    """A private rjieba instance with the user dictionary, and the frequency it gave each user word."""
    segmenter = rjieba.Jieba()
    freqs = tuple(segmenter.add_word(word, freq, tag) for word, freq, tag in _resources().han_words)
    return segmenter, freqs


@functools.cache
def _jieba() -> Callable[[str], list[str]]:
    """A private jieba.Tokenizer (the global one is left alone) given rjieba's exact user-word counts."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    segmenter = jieba.Tokenizer()
    segmenter.initialize()
    # jieba's dict.txt lists a few words twice; jieba counts both in the total, jieba-rs only the kept one.
    # The total sets every log-probability, so without this the two break exact ties (不好不好不好,
    # 啊啊啊啊) differently.
    segmenter.total = sum(segmenter.FREQ.values())
    _, freqs = _rjieba()
    for (word, _, tag), freq in zip(_resources().han_words, freqs, strict=True):
        # jieba adds a re-added word's new count to the total without removing the old one; jieba-rs
        # replaces it. Remove it here too, or every probability (and tie-breaking) drifts apart.
        old_freq = segmenter.FREQ.get(word, 0)
        segmenter.add_word(word, freq, tag)
        segmenter.total -= old_freq
    return segmenter.lcut


@functools.cache
def _cutter(backend: Backend) -> Callable[[str], list[str]]:
    """The Han-run segmentation function of a backend."""
    if backend == "rjieba":
        return _rjieba()[0].cut
    if backend == "jieba":
        return _jieba()
    raise ValueError(f"unknown tokenizer backend {backend!r}; expected 'rjieba' or 'jieba'")


def _line_tokens(line: str, cut: Callable[[str], list[str]], res: _Resources, whole: bool) -> list[str]:
    """Tokens of one line (marker already removed), stopwords dropped.

    With ``whole``, a stretch made of Han runs and plain punctuation alone (most reviews, whole; most of the rest
    between atoms) is cut in one backend call: a backend segments each Han run between punctuation on its own and
    gives every punctuation mark or space as a token of one character, dropped here as the run split drops it.
    Same tokens as cutting run by run, in fewer calls and regex matches: 17% more text per second on one core.
    """
    dropped = res.plain_dropped
    if whole and res.plain_line.fullmatch(line):  # no atom either: the whole line in one call
        return [tok for tok in cut(line) if tok not in dropped]
    tokens: list[str] = []
    for i, piece in enumerate(res.atoms.split(line)):
        if i % 2:
            tokens.append(piece)
        elif whole and res.plain_line.fullmatch(piece):
            tokens.extend(cut(piece))
        else:
            for han, other in _RUNS.findall(piece):
                if han:
                    tokens.extend(cut(han))
                else:
                    tokens.append(other)
    return [tok for tok in tokens if tok not in dropped]


def tokenize_with(text: str, backend: Backend) -> list[str]:
    """Tokens of a cleaned text with an explicit segmentation backend (for parity tests and benchmarks).

    A chat line starting with ``客服:`` makes its tokens (and those of the following lines, until the next
    marker) carry the ``客服|`` prefix, so the model can tell the agent's words from the buyer's; buyer
    lines and plain text give bare tokens. Stopwords are dropped.
    """
    cut = _cutter(backend)
    res = _resources()
    whole = backend == "rjieba"  # jieba, the reference, always takes the run split the parity tests check against
    if "\n" not in text and _MARKER.match(text) is None:  # a review or complaint: one line, no speaker
        return _line_tokens(text, cut, res, whole)
    prefix = ""
    tokens: list[str] = []
    for line in text.split("\n"):
        marker = _MARKER.match(line)
        if marker:
            prefix = AGENT_PREFIX if marker.group(1) == _AGENT else ""
            line = line[marker.end() :]
        tokens.extend(prefix + tok for tok in _line_tokens(line, cut, res, whole))
    return tokens


def load_dictionary() -> None:
    """Load the segmenter and its user dictionary now (about 0.1 s) instead of on the first text, e.g. in a
    scorer before it forks its workers, which then share it."""
    _cutter("rjieba")


#: The tokens of the single-line texts seen inside :func:`shared_tokens` (None outside it).
_SHARED: ContextVar[dict[str, list[str]] | None] = ContextVar("shared_tokens", default=None)


@contextmanager
def shared_tokens() -> Iterator[None]:
    """Inside the block, :func:`tokenize` segments each single-line text once and hands out copies after.

    The word TF-IDF block and the word vectors of a few-label model both tokenize the scorer's batch, so
    without this a review is segmented twice (scoring reviews ran at 21,600 instead of 30,400 rows/s).
    Chats are not kept: they get no word vectors, and their long token lists would hold most of the
    memory. What is kept lives as long as the block, so the scorer opens one per batch.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def tokenize(text: str) -> list[str]:
    """THE tokenizer of the model (rjieba backend); saved vectorizers refer to it by this name."""
    shared = _SHARED.get()
    if shared is None or "\n" in text:
        return tokenize_with(text, "rjieba")
    tokens = shared.get(text)
    if tokens is None:
        tokens = shared[text] = tokenize_with(text, "rjieba")
    return list(tokens)  # a copy: a caller that edits its list must not change what the next one gets
