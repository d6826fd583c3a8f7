"""The "what changed" line of a training run's description."""

from pipelines.changes import param_changes


def test_lists_changed_added_and_removed_params_but_not_derived_ones():
    before = {"classifier.C": "4.0", "data.digest": "aaa", "data.source": "/a.csv", "features.old": "1"}
    after = {"classifier.C": 0.01, "data.digest": "bbb", "data.source": "/b.csv", "features.new": 2}
    assert param_changes(before | {"split.refit": "True"}, after | {"split.refit": False}) == [
        "data.digest aaa→bbb",  # what the model learned from comes first: a description shows only a few
        "split.refit True→False",
        "classifier.C 4.0→0.01",
        "features.new ∅→2",
        "features.old 1→∅",
    ]


def test_same_params_compare_equal_across_types():
    assert param_changes({"classifier.C": "4.0", "split.seed": "7"}, {"classifier.C": 4.0, "split.seed": 7}) == []
