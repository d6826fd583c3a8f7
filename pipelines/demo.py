"""Deterministic generator of the synthetic demo corpus (data/demo/disputes.csv).

The demo corpus lets the whole pipeline run without the real data, which may not be copied into the
project. Cases are composed from the hand-written pieces in ``pipelines.demo_phrases`` (situation
templates x slots x noise), so that labels follow the gold guideline while keywords overlap across labels.
Only ``random.Random(seed)`` is used and no set or hash order is ever iterated, so the CSV is byte-identical
on every run and machine.

Regenerate with ``liability demo`` (or ``make data``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines import demo_phrases as ph
from pipelines.config import AGENT_MARK, BUYER_MARK, DEMO_CASES, DEMO_FILE, DEMO_SEED

COLUMNS = ("case_id", "channel", "category", "genre", "text", "label")
MIN_CHARS, MAX_CHARS = 10, 400
MIN_TURNS, MAX_TURNS = 4, 14
#: Slots that keep one value for the whole case, so a text talks about one product, courier and shop.
CASE_FIXED_SLOTS = ("product", "courier", "plat", "selfop", "brand", "shop_kind", "credit", "city", "spec")
#: Number formats of the case: the publisher's placeholders, masked digits, or raw digits the pipeline masks.
NUMBER_STYLES = ("placeholder", "masked", "raw")

_ALTERNATION = re.compile(r"\(([^()]*)\)")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass
class Case:
    """The random state and the fixed choices of one case, shared by all its templates."""

    rng: random.Random
    channel: str
    category: str
    number_style: str
    fixed: dict[str, str] = field(default_factory=dict)

    def pool(self, slot: str) -> Sequence[str]:
        """Where a slot's values come from: the category first, then the channel, then the global pool."""
        for source in (ph.CATEGORY_SLOTS[self.category], ph.CHANNEL_SLOTS[self.channel], ph.SLOTS):
            if slot in source:
                return source[slot]
        raise KeyError(f"unknown slot {{{slot}}}")


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    """One key drawn by weight; dicts keep insertion order, so the draw is reproducible."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _order_ref(case: Case) -> str:
    """An order number as found in real texts: a publisher placeholder, a masked one, or raw digits."""
    rng = case.rng
    if case.number_style == "placeholder":
        return "[订单x]"
    if case.number_style == "masked":
        return rng.choice((f"{rng.choice(('2025', '2026', '3019'))}****{_digits(rng, 4)}", f"尾号{_digits(rng, 4)}"))
    return str(rng.randrange(1, 10)) + _digits(rng, rng.randrange(15, 19))


def _phone_ref(case: Case) -> str:
    """A phone number in the case's number style; raw ones are fake but well-formed (1[3-9]xxxxxxxxx)."""
    rng = case.rng
    head = "1" + str(rng.randrange(3, 10)) + str(rng.randrange(10))
    if case.number_style == "placeholder":
        return "[电话x]"
    if case.number_style == "masked":
        return rng.choice((f"{head}****{_digits(rng, 4)}", f"尾号{_digits(rng, 4)}"))
    return head + _digits(rng, 8)


def _money_ref(case: Case) -> str:
    return "[金额x]" if case.number_style == "placeholder" else f"{case.rng.choice(ph.SLOTS['amount'])}元"


def _date_ref(case: Case) -> str:
    if case.number_style == "placeholder":
        return "[日期x] [时间x]"
    rng = case.rng
    return f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}"


_GENERATED_SLOTS: dict[str, Callable[[Case], str]] = {
    "order_ref": _order_ref,
    "phone_ref": _phone_ref,
    "money_ref": _money_ref,
    "date_ref": _date_ref,
}


def _slot_value(case: Case, slot: str) -> str:
    """Fill one slot; in placeholder style some spans of days become ``[数字x]天`` like the real chats."""
    if slot in _GENERATED_SLOTS:
        return _GENERATED_SLOTS[slot](case)
    if slot in CASE_FIXED_SLOTS:
        if slot not in case.fixed:
            case.fixed[slot] = case.rng.choice(case.pool(slot))
        return case.fixed[slot]
    if slot.endswith("days") and case.number_style == "placeholder" and case.rng.random() < 0.5:
        return "[数字x]天"
    return case.rng.choice(case.pool(slot))


def fill(template: str, case: Case) -> str:
    """Resolve ``(a|b)`` alternatives, then ``{slot}`` slots, of one template."""
    text = _ALTERNATION.sub(lambda m: case.rng.choice(m.group(1).split("|")), template)
    return _SLOT.sub(lambda m: _slot_value(case, m.group(1)), text)


def _maybe(case: Case, p: float, options: Sequence[str]) -> str:
    """A filled random option with probability ``p``, else an empty string."""
    return fill(case.rng.choice(options), case) if case.rng.random() < p else ""


def _join(case: Case, parts: Sequence[str]) -> str:
    """Join clauses with the loose punctuation of web text (commas, full stops, spaces)."""
    text = ""
    for part in (p for p in parts if p):
        if text:
            text += case.rng.choices(("，", "。", " ", "！", "，"), weights=(5, 3, 2, 1, 2))[0]
        text += part
    return text


# ------------------------------------------------------------------------------------------ genres
def _complaint(case: Case, label: str) -> str:
    """A complaint-site style narrative: scene, label cores, neutral context, side remarks, a demand.

    Sometimes another party is blamed in passing; the label's own party is then either described more
    or stressed ("最气的是…"), because the guideline labels the party the text dwells on most.
    """
    rng = case.rng
    n_cores = 2 if rng.random() < 0.4 else 1
    parts = [fill(rng.choice(ph.CORES[label]), case) for _ in range(n_cores)]
    title = re.split(r"[，。！ ]", parts[0])[0][:24]
    if label != "none" and rng.random() < 0.5:
        parts = [rng.choice(ph.MAIN_PREFIX) + parts[0]] if rng.random() < 0.5 else parts
        parts.insert(rng.randrange(len(parts) + 1), _secondary(case, label))
    extras = [ph.SIDES[label]] * (rng.random() < 0.4) + [ph.CONTEXT] * rng.choice((0, 1, 1, 2, 3, 4))
    for pool in extras:
        parts.insert(rng.randrange(len(parts) + 1), fill(rng.choice(pool), case))
    if label != "none":
        parts += [fill(rng.choice(ph.FOLLOWUPS), case) for _ in range(rng.choice((0, 0, 0, 1, 2, 3)))]
    if rng.random() < 0.15:
        parts.append(f"联系电话{_phone_ref(case)}")
    closers = ph.NONE_CLOSERS if label == "none" else ph.CLOSERS
    demand = "" if label == "none" else _maybe(case, 0.6, ph.DEMANDS)
    opener = fill(rng.choice(ph.OPENERS), case).rstrip("，")
    body = _join(case, [opener, *parts, demand, fill(rng.choice(closers), case)])
    return f"{title}\n{body}" if rng.random() < 0.3 else body


def _secondary(case: Case, label: str) -> str:
    """A passing complaint about another party, marked as secondary ("另外…", "虽然…")."""
    other = case.rng.choice([party for party in ph.SHORT_REVIEWS if party not in (label, "none")])
    return case.rng.choice(ph.SECONDARY_PREFIX) + fill(case.rng.choice(ph.SHORT_REVIEWS[other]), case)


def _review(case: Case, label: str) -> str:
    """A short product review: mostly one clause, sometimes with a side remark, another party, a closer."""
    rng = case.rng
    pool = ph.SHORT_REVIEWS[label] if rng.random() < 0.6 else ph.CORES[label]
    main = fill(rng.choice(pool), case)
    parts = [main]
    if label != "none" and rng.random() < 0.3:
        parts = [_secondary(case, label), rng.choice(ph.MAIN_PREFIX) + main]
    if rng.random() < 0.25:
        parts.insert(rng.randrange(len(parts) + 1), fill(rng.choice(ph.SIDES[label]), case))
    closers = ph.NONE_CLOSERS if label == "none" else ph.CLOSERS
    parts.append(_maybe(case, 0.5, closers))
    return _join(case, parts)


def _summary(case: Case, label: str) -> str:
    """A service summary: "用户…" sentences; routine questions may follow the one that sets the label."""
    rng = case.rng
    sentences = [_summary_sentence(case, label)]
    while rng.random() < 0.35 and len(sentences) < 4:
        sentences.append(_summary_sentence(case, "none"))
    text = "".join(sentences)
    return re.sub(r"\d+", "[数字]", text) if rng.random() < 0.5 else text


def _summary_sentence(case: Case, label: str) -> str:
    heads = ph.SUMMARY_QUESTION_HEADS if label == "none" else ph.SUMMARY_HEADS
    return case.rng.choice(heads) + fill(case.rng.choice(ph.SUMMARIES[label]), case) + "。"


def _chat(case: Case, label: str) -> str:
    """A multi-turn chat, one turn a line; the label-deciding information is often in an agent turn."""
    rng = case.rng
    group, script = rng.choice(ph.CHAT_SCRIPTS[label])
    head = [t for t, p in ((rng.choice(ph.CHAT_GREETINGS), 0.6), (rng.choice(ph.AGENT_HELLO), 0.7)) if rng.random() < p]
    body = list(script)
    if group:
        body.insert(0, rng.choice(ph.AMBIGUOUS_OPENERS[group]))
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        at = rng.randrange(1, len(body) + 1)
        body[at:at] = [rng.choice(ph.AGENT_WAIT), rng.choice(ph.BUYER_FILLER)]
    if label != "none" and rng.random() < 0.25:
        body.insert(rng.randrange(1, len(body) + 1), "B:" + _secondary(case, label))
    tail = [t for t, p in ((rng.choice(ph.AGENT_BYE), 0.6), (rng.choice(ph.BUYER_BYE), 0.4)) if rng.random() < p]
    turns = head + body + tail
    while len(turns) < MIN_TURNS:
        turns.insert(len(turns) - len(tail), rng.choice(ph.BUYER_FILLER if len(turns) % 2 else ph.AGENT_WAIT))
    return "\n".join(_turn(case, t) for t in turns[:MAX_TURNS])


def _turn(case: Case, template: str) -> str:
    """One chat line; only the buyer's lines get typos and emoji, agents type carefully."""
    role, text = template.split(":", 1)
    line = fill(text, case)
    if role == "B":
        return BUYER_MARK + _noise(case, line, strength=0.5)
    return AGENT_MARK + line


GENRES: dict[str, Callable[[Case, str], str]] = {
    "complaint": _complaint,
    "chat": _chat,
    "review": _review,
    "summary": _summary,
}


# ------------------------------------------------------------------------------------------- noise
def _noise(case: Case, text: str, strength: float = 1.0) -> str:
    """Typos, emoji, repeated and full-width punctuation: what real buyers type, at random strength."""
    rng = case.rng
    if rng.random() < 0.3 * strength:
        wrong = [(a, b) for a, b in ph.TYPOS if a in text]
        if wrong:
            a, b = rng.choice(wrong)
            text = text.replace(a, b, 1)
    if rng.random() < 0.2 * strength:
        text += rng.choice(("！！！", "？？", "。。。", "!!", "??", "...", "！！"))
    if rng.random() < 0.2 * strength:
        text += rng.choice(ph.EMOJI) * rng.randrange(1, 4)
    if rng.random() < 0.15 * strength:
        text = "".join(ph.FULLWIDTH.get(ch, ch) for ch in text)
    return text


def _text(case: Case, genre: str, label: str) -> str:
    text = GENRES[genre](case, label)
    return text if genre in ("chat", "summary") else _noise(case, text)


def _make_text(case: Case, genre: str, label: str, seen: set[str]) -> str:
    """A new text of the right length; retries (with the same RNG) keep texts unique and in bounds."""
    for _ in range(20):
        text = _text(case, genre, label)
        if MIN_CHARS <= len(text) <= MAX_CHARS and text not in seen:
            return text
    while len(text) > MAX_CHARS and "\n" in text:
        text = text.rsplit("\n", 1)[0]
    return text[:MAX_CHARS]


def _pick_channel_category(rng: random.Random) -> tuple[str, str]:
    category = _weighted(rng, ph.CATEGORY_WEIGHTS)
    if category == "图书" and rng.random() < ph.DANGDANG_BOOK_SHARE:
        return "当当", category
    return _weighted(rng, ph.CHANNEL_WEIGHTS), category


def generate(n_cases: int = DEMO_CASES, seed: int = DEMO_SEED) -> pd.DataFrame:
    """Generate ``n_cases`` synthetic dispute cases; the same arguments always give the same frame."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for i in range(1, n_cases + 1):
        label = _weighted(rng, ph.LABEL_WEIGHTS)
        genre = _weighted(rng, ph.GENRE_WEIGHTS)
        channel, category = _pick_channel_category(rng)
        case = Case(rng, channel, category, rng.choices(NUMBER_STYLES, weights=(4, 3, 2))[0])
        text = _make_text(case, genre, label, seen)
        seen.add(text)
        rows.append(
            {
                "case_id": f"D{i:06d}",
                "channel": channel,
                "category": category,
                "genre": genre,
                "text": text,
                "label": label,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_demo(path: Path = DEMO_FILE, n_cases: int = DEMO_CASES, seed: int = DEMO_SEED) -> Path:
    """Write the demo CSV (UTF-8, ``\\n`` line ends) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    generate(n_cases, seed).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def load_demo(path: Path = DEMO_FILE) -> pd.DataFrame:
    """The shipped demo corpus as strings (empty cells stay empty strings), as every stage reads it."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)
