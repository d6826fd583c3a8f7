"""The case-bootstrap intervals of cross-validated macro-F1 (pipelines.intervals)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from pipelines.config import PARTY_CODES
from pipelines.intervals import macro_f1_interval, party_codes, party_f1_intervals, resampled_party_f1
from pipelines.metrics import party_macro_f1

LABELS = np.array(["merchant", "platform", "consumer", "logistics", "none"], dtype=object)


def _noisy(n: int = 400, seeds: int = 3, right: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    truth = LABELS[rng.integers(0, 5, n)]
    guesses = LABELS[rng.integers(0, 5, (seeds, n))]
    return truth, np.where(rng.random((seeds, n)) < right, truth, guesses)


def test_resampled_party_f1_equals_scikit_learn_on_every_draw():
    truth, predictions = _noisy()
    draws = np.random.default_rng(0).integers(0, len(truth), (5, len(truth)))
    ours = resampled_party_f1(party_codes(truth), party_codes(predictions), draws, len(PARTY_CODES))
    per_party = [
        np.mean([f1_score(truth[d], p[d], labels=list(PARTY_CODES), average=None) for p in predictions], axis=0)
        for d in draws
    ]
    assert ours == pytest.approx(np.array(per_party).T)
    assert ours.mean(axis=0) == pytest.approx(
        [np.mean([party_macro_f1(truth[d], p[d]) for p in predictions]) for d in draws]
    )


def test_a_party_never_true_nor_predicted_scores_zero_as_in_scikit_learn():
    truth = np.array(["merchant", "none", "consumer", "merchant"], dtype=object)
    said = np.array([["merchant", "none", "consumer", "consumer"]], dtype=object)
    ours = resampled_party_f1(party_codes(truth), party_codes(said), np.arange(4)[None, :], len(PARTY_CODES))
    assert ours.mean(axis=0) == pytest.approx([party_macro_f1(truth, said[0])])


def test_interval_brackets_the_figure_and_narrows_with_more_cases():
    truth, predictions = _noisy(n=2000)
    figure = np.mean([party_macro_f1(truth, p) for p in predictions])
    low, high = macro_f1_interval(truth, predictions)
    assert low < figure < high
    small_low, small_high = macro_f1_interval(truth[:200], predictions[:, :200])
    assert small_high - small_low > 2 * (high - low)  # about sqrt(10) times wider on a tenth of the cases


def test_interval_is_reproducible_and_paired_differences_of_a_method_with_itself_vanish():
    truth, predictions = _noisy()
    assert macro_f1_interval(truth, predictions) == macro_f1_interval(truth, predictions)
    assert macro_f1_interval(truth, predictions, baseline=predictions) == (0.0, 0.0)


def test_a_clearly_better_method_has_a_positive_paired_interval():
    truth, better = _noisy(right=0.8)
    _, worse = _noisy(right=0.5)
    low, high = macro_f1_interval(truth, better, baseline=worse)
    assert 0 < low < high


def test_interval_over_fewer_parties_brackets_scikit_learns_figure_over_them():
    truth, noisy = _noisy(n=2000, seeds=1, right=0.5)
    parties = ["merchant", "logistics"]
    predictions = np.where(np.isin(truth, parties), truth, noisy)  # those two parties always found
    figure = f1_score(truth, predictions[0], labels=parties, average="macro")
    low, high = macro_f1_interval(truth, predictions, parties=parties)
    assert low < figure < high
    assert party_macro_f1(truth, predictions[0]) < low  # over all four parties the figure is lower


def test_party_intervals_bracket_each_party_and_the_rarest_is_the_widest():
    truth, predictions = _noisy(n=1200)
    truth[:1000] = np.where(truth[:1000] == "platform", "merchant", truth[:1000])  # platform becomes rare
    intervals = party_f1_intervals(truth, predictions)
    figures = np.mean([f1_score(truth, p, labels=list(PARTY_CODES), average=None) for p in predictions], axis=0)
    for party, figure in zip(PARTY_CODES, figures, strict=True):
        assert intervals[party][0] < figure < intervals[party][1], party
    widths = {party: high - low for party, (low, high) in intervals.items()}
    assert max(widths, key=widths.get) == "platform"


def test_a_single_case_has_no_interval_rather_than_an_error():
    one = np.array(["merchant"], dtype=object)
    assert np.isnan(macro_f1_interval(one, one[None, :])).all()
    assert all(np.isnan(bounds).all() for bounds in party_f1_intervals(one, one[None, :]).values())
