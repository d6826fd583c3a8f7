"""The promotion rule: strictly better on the same data, or a recorded override; never silently."""

from pipelines.promote import FORCED, PROMOTED, REFUSED, UNCHANGED, Evidence, decide


def evidence(candidate: float, champion: float) -> Evidence:
    return Evidence("macro_f1", "dev (gold, 702 cases, digest abc)", candidate, champion, "run-a", "run-b")


def test_better_candidate_is_promoted_with_both_numbers():
    decision, reason = decide("3", "2", evidence(0.81, 0.79), force=False)
    assert decision == PROMOTED
    assert "0.8100" in reason and "0.7900" in reason and "dev (gold" in reason


def test_equal_or_worse_candidate_is_refused_with_both_numbers():
    for candidate in (0.79, 0.5):
        decision, reason = decide("3", "2", evidence(candidate, 0.79), force=False)
        assert decision == REFUSED
        assert f"{candidate:.4f}" in reason and "0.7900" in reason


def test_force_overrides_and_says_so():
    decision, reason = decide("3", "2", evidence(0.5, 0.79), force=True)
    assert decision == FORCED
    assert "override" in reason


def test_missing_evidence_refuses_unless_forced():
    assert decide("3", "2", None, force=False)[0] == REFUSED
    assert decide("3", "2", None, force=True)[0] == FORCED


def test_no_champion_or_already_champion():
    assert decide("1", None, None, force=False)[0] == PROMOTED
    assert decide("2", "2", None, force=False)[0] == UNCHANGED


def test_reason_quotes_the_paired_interval_and_says_when_it_spans_zero():
    close = Evidence("macro_f1", "dev (gold)", 0.80, 0.79, "run-a", "run-b", interval=(-0.012, 0.031))
    decision, reason = decide("3", "2", close, force=False)
    assert decision == PROMOTED  # the rule stays: strictly better
    assert "(difference +0.0100, 95% interval -0.0120 to +0.0310, within what chance alone gives)" in reason
    clear = Evidence("macro_f1", "dev (gold)", 0.85, 0.79, "run-a", "run-b", interval=(0.031, 0.092))
    assert "95% interval +0.0310 to +0.0920)" in decide("3", "2", clear, force=False)[1]
    assert "interval" not in decide("3", "2", evidence(0.81, 0.79), force=False)[1]  # runs from before intervals
