"""No case may sit on both sides of the split, whatever shape its rows have."""

import pandas as pd

from pipelines.train import split_by_case, stratified_sample


def cases_with_repeated_ids() -> pd.DataFrame:
    ids = [f"c{i // 2}" for i in range(400)]  # two rows per case, as chats or re-exports give
    labels = ["merchant", "platform", "consumer", "logistics"]
    return pd.DataFrame(
        {"case_id": ids, "text": [f"文本{i}" for i in range(400)], "label": [labels[int(c[1:]) % 4] for c in ids]}
    )


def test_no_case_in_two_splits():
    cases = cases_with_repeated_ids()
    train, test = split_by_case(cases, test_size=0.25, seed=1)
    assert set(train["case_id"]).isdisjoint(test["case_id"])
    assert len(train) + len(test) == len(cases)
    assert test["case_id"].nunique() == 50


def test_split_is_stratified_and_reproducible():
    cases = cases_with_repeated_ids()
    _, a = split_by_case(cases, test_size=0.25, seed=7)
    _, b = split_by_case(cases, test_size=0.25, seed=7)
    assert a.equals(b)
    per_label = a.drop_duplicates("case_id")["label"].value_counts()
    assert per_label.sum() == 50
    assert per_label.min() >= 12 and per_label.max() <= 13


def test_stratified_sample_keeps_whole_cases():
    sample = stratified_sample(cases_with_repeated_ids(), 40, seed=0)
    assert sample["case_id"].nunique() == 40
    assert (sample.groupby("case_id").size() == 2).all()
