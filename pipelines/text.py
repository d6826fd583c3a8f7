"""Text normalization and personal-data masking, shared by training and scoring.

Training and scoring must see byte-identical text for the same input, otherwise the vectorizer's
vocabulary silently stops matching; so every text goes through :func:`clean` (normalize, then mask)
and nothing else.  Masking writes placeholders in the style the real JD chat data already uses
(``[订单x]``, ``[电话x]`` …) so that masked training data and pre-masked real data share tokens.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np

#: Placeholder written for each kind of personal data, in the real data's own style.
LINK = "[链接x]"
EMAIL = "[邮箱x]"
PHONE = "[电话x]"
ID_CARD = "[身份证号x]"
BANK_CARD = "[银行卡x]"
ORDER = "[订单x]"
PLACEHOLDERS: tuple[str, ...] = (LINK, EMAIL, PHONE, ID_CARD, BANK_CARD, ORDER)

# --- normalization -------------------------------------------------------------------------------------

# Every line-break convention (CRLF, CR, VT, FF, file/group/record separators, NEL, LS, PS) becomes "\n",
# so that line-based chat markers work whatever tool produced the text.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Control (Cc), format (Cf, e.g. zero-width space, BOM, bidi marks) and lone-surrogate characters are
# invisible noise that splits words and breaks UTF-8 export; newline and tab survive this step.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\ud800-\udfff]"
)
_BLANKS = re.compile(r"[^\S\n]+")
_ASCII_UPPER = re.compile("[A-Z]")
#: The commonest characters that keep Chinese text out of NFKC, with their NFKC form.
_WIDE_PUNCTUATION = tuple((wide, unicodedata.normalize("NFKC", wide)) for wide in "，：！？；（）～")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalize(text: str) -> str:
    """Canonical form of a text: one spelling per character, one space per gap, no blank lines.

    NFKC folds full-width digits/letters/punctuation (common in Chinese input methods) to ASCII, ASCII
    letters are lower-cased so ``iPhone`` and ``iphone`` are one feature; Han characters, traditional
    characters and emoji are kept as they are. Idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))
    # Checking is some forty times cheaper than normalizing, and once the full-width punctuation of Chinese
    # input methods is replaced by its NFKC form (ASCII marks that compose with nothing, so the result is
    # the same) most texts are already in NFKC. Likewise, look for an upper-case ASCII letter before
    # translating every character.
    for wide, narrow in _WIDE_PUNCTUATION:
        text = text.replace(wide, narrow)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _ASCII_UPPER.search(text):
        text = text.translate(_ASCII_LOWER)
        # Lower-casing can make a new canonical composition (``J`` + caron has none, ``j`` + caron is ǰ).
        text = unicodedata.normalize("NFKC", text)
    lines = (line.strip() for line in _BLANKS.sub(" ", text).split("\n"))
    return "\n".join(line for line in lines if line)


# --- masking -------------------------------------------------------------------------------------------

# Characters that may continue a URL. Square brackets are excluded so a URL never swallows a placeholder
# (keeps mask() idempotent); CJK text right after a URL ends it, as it does in chat messages.
_URL_CHARS = r"[a-z0-9\-._~:/?#@!$&'*+,;=%]"
_SHORT_LINK_TLDS = "cn|com|net|org|cc|me|io|top|vip|xyz|link"
_URL = re.compile(
    rf"(?:https?:/{{0,2}}|www\.){_URL_CHARS}+"  # also the slash-less "http:t.cn/x" of old weibo shares
    # scheme-less short links (t.cn/xxx, 3.cn/xx, u.jd.com/xx, m.tb.cn/h.xx): a domain followed by a path
    rf"|(?<![a-z0-9_@.-])(?:[a-z0-9-]+\.)+(?:{_SHORT_LINK_TLDS})/{_URL_CHARS}*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.IGNORECASE)
# Resident ID: 6-digit region, birth date 18xx-20xx, 3-digit sequence, check digit or X. The date check
# keeps 18-digit order numbers (Taobao's are 18-19 digits) out of this class; they are masked later anyway.
_ID_CARD = re.compile(
    r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx](?![\da-z])",
    re.IGNORECASE,
)
# A card number written in groups of four ("6222 0212 3456 7890 123"); orders are never written so.
_GROUPED_CARD = re.compile(r"(?<!\d)\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?(?!\d)")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
# A mobile number shown with its middle four digits hidden, as shops and couriers print it.
_MASKED_MOBILE = re.compile(r"(?<![\d*])1[3-9]\d\*{4}\d{4}(?![\d*])")
_LANDLINE = re.compile(
    r"(?<![\d-])(?:\(0\d{2,3}\)[ -]?|0\d{2,3}[ -])\d{7,8}(?:-\d{1,5})?(?![\d-])"  # area code + number
    r"|(?<![\d-])[48]00[ -]?\d{3}[ -]?\d{4}(?![\d-])"  # 400/800 service lines
)
# An explicitly labelled order or waybill number, which may be short, have a carrier prefix (sf, jd, yt)
# or be partially starred; the label is kept, the value replaced.
_LABELLED_ORDER = re.compile(
    r"(?P<label>订单编号|订单号|运单号|单号)(?P<sep>\s*[:：是为]?\s*)[a-z]{0,4}\d[\d*]{4,}\d",
    re.IGNORECASE,
)
_CONTIGUOUS_CARD = re.compile(r"(?<!\d)\d{16,19}(?!\d)")
# The catch-all: any run of 10+ digits, or of digits and stars (12345****6789, a partially hidden number),
# is an identifier; taking the whole run guarantees that no 10+ digit run survives masking.
_LONG_NUMBER = re.compile(r"(?<![\d*])(?=[\d*]*\d)[\d*]{10,}(?![\d*])")


def _luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn check that every bank card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_or_order(match: re.Match[str]) -> str:
    """A bare 16-19 digit number: a bank card if it passes Luhn, else an order number (Taobao style)."""
    digits = match.group()
    return BANK_CARD if digits.isascii() and _luhn_ok(digits) else ORDER


#: The masking rules in the order they run. Order matters: a rule must run before any later rule that
#: could match part of its value. URLs first (they contain e-mail-like and digit runs); e-mail before
#: phones (QQ mail is digits@qq.com); ID cards before cards and phones (they contain 11-digit runs);
#: grouped cards before phones; phones before order numbers; Luhn-valid 16-19 digit runs before the
#: catch-all that turns every remaining 10+ digit run into an order number, so none survives.
_RULES: tuple[tuple[re.Pattern[str], Any], ...] = (
    (_URL, LINK),
    (_EMAIL, EMAIL),
    (_ID_CARD, ID_CARD),
    (_GROUPED_CARD, BANK_CARD),
    (_MOBILE, PHONE),
    (_MASKED_MOBILE, PHONE),
    (_LANDLINE, PHONE),
    (_LABELLED_ORDER, rf"\g<label>\g<sep>{ORDER}"),
    (_CONTIGUOUS_CARD, _card_or_order),
    (_LONG_NUMBER, ORDER),
)


# Every rule needs one of these to match: "http", "www" or a known top-level domain followed by "/" (links),
# "@" (e-mail), or three adjacent digits or stars among which a digit (every number rule holds such a run:
# a mobile's 1[3-9]\d, an area code's 0\d\d, a starred 12*45*78). Texts without any skip the rules entirely;
# prices, dates and counts ("20元", "11/25", "3天") do not send a complaint through all ten.
_MAYBE_MASKED = re.compile(rf"http|www|\.(?:{_SHORT_LINK_TLDS})/|@|\d[\d*]{{2}}|\*\d[\d*]|\*\*\d", re.IGNORECASE)


def _mask_once(text: str) -> str:
    """One pass of every rule, in order."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def mask(text: str) -> str:
    """Replace links, e-mails, phones, ID-card, bank-card and order numbers by placeholders.

    Rules look at the characters around a value, and a later rule can change them (``@0000000000a.cn/``:
    the digits block the link rule until they become ``[订单x]``), so passes repeat until nothing changes;
    that makes mask() idempotent. It terminates because no rule can match any character of a placeholder
    (``[``/``]`` are in no rule's alphabet), so each change masks characters that stay masked. A text with
    nothing any rule needs (see ``_MAYBE_MASKED``) is already a fixed point, so most texts take no pass and
    most masked ones only one.
    """
    while _MAYBE_MASKED.search(text):
        masked = _mask_once(text)
        if masked == text:
            break
        text = masked
    return text


def clean(text: str) -> str:
    """The single text transformation used before tokenizing, in training and in scoring."""
    return mask(normalize(text))


def is_missing(value: object) -> bool:
    """None, NaN, pandas NA/NaT: the shapes a missing text takes in a DataFrame or an array."""
    if value is None:
        return True
    if isinstance(value, numbers.Real):
        return math.isnan(value)
    return type(value).__name__ in {"NAType", "NaTType"}


def clean_texts(texts: Iterable[Any]) -> list[str]:
    """Clean a batch of texts (list, pandas Series, numpy array); a missing text becomes "".

    Top-level so that a scikit-learn ``FunctionTransformer(clean_texts)`` can be saved with skops. A
    one-column 2-D input (what a ColumnTransformer passes) is flattened to its single column.
    """
    if getattr(texts, "ndim", 1) == 2:
        array = np.asarray(texts, dtype=object)
        if array.shape[1] != 1:
            raise ValueError(f"clean_texts expects one column of texts, got shape {array.shape}")
        texts = array[:, 0]
    return ["" if is_missing(t) else clean(t if isinstance(t, str) else str(t)) for t in texts]
