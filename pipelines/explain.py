"""Why the model chose its party for a row: the terms that pushed hardest towards that party.

For a linear model the score of class ``c`` is ``sum_j x_j * w_cj``, so ``x_j * w_cj`` is exactly how much
feature ``j`` added to the predicted class. The largest positive shares explain the decision without any
extra model call, and they are computed for a whole sparse chunk at once. Word and character features
often name the same string (word ``快递`` and character bigram ``快递``); those are summed into one term.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipelines.tokenize import AGENT_PREFIX

#: Terms shown per row.
TOP_TERMS = 5
_WHITESPACE = re.compile(r"\s+")
#: A letter or digit: exactly the characters ``str.isalnum`` accepts (``\w`` is those and ``_``).
_ALNUM = re.compile(r"[^\W_]")
#: Rows explained per sort: the row number takes this many high bits of a 63-bit sort key.
_ROW_BITS = 16
_SHARE_MASK = (1 << (63 - _ROW_BITS)) - 1
#: Shares below this fraction of their row's largest are not sorted unless the row needs them.
_CANDIDATE_SHARE = 0.25


def word_term(feature: str) -> str:
    """A word n-gram as a reviewer reads it: tokens joined without spaces, the agent mark written once.

    ``"快递 丢件"`` → ``快递丢件``; ``"客服|请 客服|稍等"`` → ``客服|请稍等``; a gram spanning buyer and
    agent lines keeps each token's own mark.
    """
    if AGENT_PREFIX not in feature:
        return feature.replace(" ", "")
    tokens = feature.split(" ")
    if len(tokens) > 1 and all(t.startswith(AGENT_PREFIX) for t in tokens):
        return AGENT_PREFIX + "".join(t.removeprefix(AGENT_PREFIX) for t in tokens)
    return "".join(tokens)


def char_term(feature: str) -> str:
    """A character n-gram, or "" when it holds no letter or digit (punctuation and line breaks explain nothing)."""
    if _ALNUM.search(feature) is None:
        return ""
    return _WHITESPACE.sub("␣", feature)


def _candidates(
    rows: np.ndarray, term: np.ndarray, total: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positive shares (grouped by row, in row order) that can be among their row's ``k`` largest.

    A row keeps its shares of at least :data:`_CANDIDATE_SHARE` of its largest, or all of them when fewer
    than ``k`` reach that: if ``k`` do, its ``k``-th largest does too, so nothing of the top ``k`` is lost.
    A long chat has hundreds of positive terms; sorting a handful per row instead is most of the speed.
    """
    if not len(rows):
        return rows, term, total
    first = np.r_[True, rows[1:] != rows[:-1]]
    group = np.cumsum(first) - 1
    above = total >= np.maximum.reduceat(total, np.flatnonzero(first))[group] * _CANDIDATE_SHARE
    enough = np.bincount(group, weights=above) >= k
    keep = above | ~enough[group]
    return rows[keep], term[keep], total[keep]


def class_weights(clf: LogisticRegression) -> np.ndarray:
    """One weight row per class; a two-class model stores one row, for its second class."""
    coef = np.asarray(clf.coef_)
    return np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef


@dataclass(frozen=True)
class Explainer:
    """The displayed term of every feature column and the class weights, built once per model."""

    terms: np.ndarray  # distinct display names
    to_terms: sp.csr_matrix  # (n_features, n_terms) 0/1: which term each feature column reads as
    weights: np.ndarray  # (n_classes, n_features)

    @classmethod
    def for_model(cls, vectorizers: Sequence[TfidfVectorizer], clf: LogisticRegression) -> Explainer:
        """Names in the column order of the vectorizers' stacked output (a FeatureUnion's order)."""
        names = [
            name
            for vec in vectorizers
            for name in map(
                char_term if vec.analyzer in ("char", "char_wb") else word_term, vec.get_feature_names_out()
            )
        ]
        weights = class_weights(clf)
        if weights.shape[1] != len(names):
            raise ValueError(f"classifier has {weights.shape[1]} weights per class but features have {len(names)}")
        terms, term_of = np.unique(np.asarray(names, dtype=object), return_inverse=True)
        shown = np.asarray(names, dtype=object) != ""
        to_terms = sp.csr_matrix(
            (np.ones(shown.sum()), (np.flatnonzero(shown), term_of[shown])), shape=(len(names), len(terms))
        )
        return cls(terms, to_terms, weights)

    def top_terms(self, features: sp.csr_matrix, predicted: np.ndarray, k: int = TOP_TERMS) -> list[str]:
        """For each row, ``term(+share)`` of the ``k`` terms adding most to its predicted class.

        ``predicted`` holds class indices (rows of ``weights``). A term's share is the sum over the features
        that read as it. Rows with no positive share get "".
        """
        features = sp.csr_matrix(features)
        n_rows = features.shape[0]
        if n_rows > 1 << _ROW_BITS:
            blocks = range(0, n_rows, 1 << _ROW_BITS)
            return [t for a in blocks for t in self.top_terms(features[a : a + (1 << _ROW_BITS)], predicted[a:], k)]
        rows = np.repeat(np.arange(n_rows), np.diff(features.indptr))
        share = features.data * self.weights[predicted[rows], features.indices]
        # Summing features into terms is a sparse product; scipy adds up the twins of each row.
        by_term = sp.csr_matrix((share, features.indices, features.indptr), shape=features.shape) @ self.to_terms
        rows = np.repeat(np.arange(n_rows), np.diff(by_term.indptr))
        positive = by_term.data > 0
        rows, term, total = _candidates(rows[positive], by_term.indices[positive], by_term.data[positive], k)
        # By row, largest share first, in one integer sort: a positive float64 orders like its bit pattern,
        # so the row goes in the high bits and the share's leading bits (relative precision 3e-11) below.
        # Equal shares come in the order of ``terms`` (alphabetical): the stable sort keeps a first sort by term.
        # A row's order depends on its own values only, so batches of any size or in parallel agree.
        share_bits = total.view(np.int64) >> _ROW_BITS
        key = (rows.astype(np.int64) << (63 - _ROW_BITS)) | (_SHARE_MASK - share_bits)
        order = np.argsort(term, kind="stable")
        order = order[np.argsort(key[order], kind="stable")]
        rows, term, total = rows[order], term[order], total[order]
        top = np.arange(len(rows)) - np.searchsorted(rows, rows) < k
        rows, names, total = rows[top], self.terms[term[top]], total[top]
        bounds = np.searchsorted(rows, np.arange(n_rows + 1)).tolist()
        # Python floats format faster than numpy scalars, and one flat pass beats a generator per row.
        cells = [f"{name}({value:+.2f})" for name, value in zip(names.tolist(), total.tolist(), strict=True)]
        return [" ".join(cells[a:b]) for a, b in pairwise(bounds)]
