"""Confidence intervals for macro-F1 and per-party F1, by resampling the labeled cases.

Fold seeds only show how much a cross-validated figure moves when the same cases are split differently (about
±0.002 on ``gold/dev.csv``).
How much it would move on *other* cases, such as a second labeled export of the same size, is a larger
question: with a few hundred cases, a handful of platform or logistics cases more or less moves their F1 by
several points. A case bootstrap answers it: draw the cases with replacement, recompute the figure from the
saved out-of-fold predictions (no refitting), and read the interval off the resampled figures.

Every resample keeps a case's predictions from every fold seed together, so the interval is that of the
mean over seeds, the figure reported. A difference between two methods is resampled in pairs (the same
cases for both), which is what makes "the model beats the baseline by at least 0.10" testable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import bootstrap

from pipelines.config import PARTY_CODES

CONFIDENCE = 0.95
RESAMPLES = 2000


def party_codes(values: np.ndarray, parties: Sequence[str] = PARTY_CODES) -> np.ndarray:
    """Labels as 0, 1, … in ``parties`` order; anything else (``none``) as -1."""
    codes = np.full(values.shape, -1, dtype=np.int8)
    for code, party in enumerate(parties):
        codes[values == party] = code
    return codes


def resampled_party_f1(labels: np.ndarray, predictions: np.ndarray, cases: np.ndarray, parties: int) -> np.ndarray:
    """F1 of each of the first ``parties`` codes (``none`` rows counted), averaged over fold seeds, of the cases
    drawn in each row of ``cases``.

    ``labels``: (cases,) codes of :func:`party_codes`; ``predictions``: (seeds, cases) codes; ``cases``:
    (..., draws) indices. Returns (parties, ...): one figure per party and row of ``cases``. A party with no
    true and no predicted case scores 0, as in scikit-learn with ``zero_division=0``.
    """
    truth = labels[cases]
    predicted = predictions[:, cases]
    scores = []
    for party in range(parties):
        is_party, said_party = truth == party, predicted == party
        tp = (is_party & said_party).sum(axis=-1)
        errors = (is_party != said_party).sum(axis=-1)  # false positives plus false negatives
        scores.append(np.where(tp > 0, 2 * tp / np.maximum(2 * tp + errors, 1), 0.0).mean(axis=0))
    return np.stack(scores)


def _codes_of(labels: Sequence[str], predictions: np.ndarray, parties: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    return (
        party_codes(np.asarray(labels, dtype=object), parties),
        party_codes(np.atleast_2d(np.asarray(predictions, dtype=object)), parties),
    )


def _percentile_interval(statistic: Callable[..., np.ndarray], cases: int) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`CONFIDENCE` percentile bootstrap interval of ``statistic`` (a function of resampled case
    indices) over ``cases``, from :data:`RESAMPLES` draws.

    The draws are seeded, so the same call gives the same interval, and every call resamples the same case
    sets (which makes intervals of different methods comparable).
    """
    result = bootstrap(
        (np.arange(cases),),
        statistic,
        vectorized=True,
        n_resamples=RESAMPLES,
        batch=200,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    return np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)


def macro_f1_interval(
    labels: Sequence[str],
    predictions: np.ndarray,
    baseline: np.ndarray | None = None,
    *,
    parties: Sequence[str] = PARTY_CODES,
) -> tuple[float, float]:
    """The interval of the mean-over-seeds macro-F1 over ``parties`` of ``predictions`` (an array of labels,
    seeds x cases), or, given ``baseline`` (the same shape), of its difference from the baseline's. A single case
    has no spread to resample: its interval is NaN."""
    truth, ours = _codes_of(labels, predictions, parties)
    if len(truth) < 2:
        return np.nan, np.nan
    theirs = None if baseline is None else _codes_of(labels, baseline, parties)[1]

    def statistic(cases: np.ndarray, axis: int = -1) -> np.ndarray:
        score = resampled_party_f1(truth, ours, cases, len(parties)).mean(axis=0)
        return score if theirs is None else score - resampled_party_f1(truth, theirs, cases, len(parties)).mean(axis=0)

    low, high = _percentile_interval(statistic, len(truth))
    return float(low), float(high)


def party_f1_intervals(
    labels: Sequence[str],
    predictions: np.ndarray,
) -> dict[str, tuple[float, float]]:
    """The interval of each party's mean-over-seeds F1: the rarest parties, with a few dozen cases, are the
    least certain, so a per-party floor (every F1 at least 0.60) is checked against their lower ends. NaN for a
    single case, as :func:`macro_f1_interval`."""
    truth, ours = _codes_of(labels, predictions, PARTY_CODES)
    if len(truth) < 2:
        return dict.fromkeys(PARTY_CODES, (np.nan, np.nan))

    def statistic(cases: np.ndarray, axis: int = -1) -> np.ndarray:
        return resampled_party_f1(truth, ours, cases, len(PARTY_CODES))

    low, high = _percentile_interval(statistic, len(truth))
    return {party: (float(lo), float(hi)) for party, lo, hi in zip(PARTY_CODES, low, high, strict=True)}
