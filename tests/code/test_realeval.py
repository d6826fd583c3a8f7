"""Cross-validation on real text: what each fit of a fold may see of the validation fold's texts."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipelines import realeval
from pipelines.config import DEMO_FILE, load_params


class _Constant:
    """Predicts one class for every text, whatever it was trained on."""

    classes_ = np.array(["consumer", "logistics", "merchant", "none", "platform"], dtype=object)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        proba = np.zeros((len(frame), len(self.classes_)))
        proba[:, 2] = 1.0
        return proba

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(frame).argmax(axis=1)]


def test_model_unseen_never_has_the_validation_texts_in_its_pool(monkeypatch: pytest.MonkeyPatch):
    demo = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False)
    gold = demo.groupby("label").head(5).reset_index(drop=True)
    gold = gold.assign(secondary="", agreement="both")
    extra = ["另一条没有标注的投诉", "还有一条聊天"]
    pools: list[set[str]] = []

    def fake_fit(texts, labels, unlabeled, params, **kwargs):
        pools.append(set(unlabeled))
        return SimpleNamespace(model=_Constant())

    monkeypatch.setattr(realeval, "fit_few_label", fake_fit)
    frame = realeval.cross_validate(gold, [*gold["text"], *extra], demo.head(0), load_params(), seed=0)

    assert len(pools) == 2 * realeval.FOLDS
    texts = set(gold["text"])
    for shipped, unseen in zip(pools[0::2], pools[1::2], strict=True):
        held_out = texts - unseen
        assert len(held_out) == len(gold) // realeval.FOLDS
        assert shipped == texts | set(extra)  # the shipped training keeps them, unlabeled
        assert unseen == shipped - held_out
    assert (frame["model_unseen"] == "merchant").all()


def test_labeled_share_is_a_stratified_part_of_the_training_fold():
    labels = np.array(["merchant"] * 40 + ["platform"] * 20 + ["none"] * 20, dtype=object)
    train = np.arange(0, 80, 2)  # every other row: 20 merchant, 10 platform, 10 none
    part = realeval.labeled_share(train, labels, 0.5, seed=0)
    assert set(part) <= set(train) and len(part) == 20
    assert pd.Series(labels[part]).value_counts().to_dict() == {"merchant": 10, "platform": 5, "none": 5}
    assert list(part) == sorted(part)
    assert not np.array_equal(part, realeval.labeled_share(train, labels, 0.5, seed=1))


def test_learning_curve_fits_see_a_share_of_the_training_fold_only(monkeypatch: pytest.MonkeyPatch):
    demo = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False)
    gold = demo.groupby("label").head(10).reset_index(drop=True).assign(secondary="", agreement="both")
    seen: list[set[str]] = []

    def fake_fit(texts, labels, unlabeled, params, **kwargs):
        seen.append(set(texts))
        return SimpleNamespace(model=_Constant())

    monkeypatch.setattr(realeval, "fit_few_label", fake_fit)
    frame = realeval.cross_validate(gold, list(gold["text"]), demo.head(0), load_params(), seed=0, shares=(0.5,))

    assert len(seen) == 3 * realeval.FOLDS  # per fold: the model, model_unseen, the 50% model
    for full, half in zip(seen[0::3], seen[2::3], strict=True):
        assert half < full and len(half) == len(full) // 2
    assert (frame["model_labeled50"] == "merchant").all()
    assert set(frame["tfidf_labeled50"]) <= set(gold["label"])


@pytest.mark.parametrize("share", ["1.0", "0", "1.5"])
def test_the_cli_refuses_a_share_outside_0_and_1_before_any_work(share: str, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.setattr(realeval, "evaluate_real", lambda *a, **k: pytest.fail("evaluation started"))
    result = CliRunner().invoke(app, ["evaluate-real", "--share", share])
    assert result.exit_code == 2 and "--share" in result.output


def test_evaluate_real_refuses_a_share_outside_0_and_1_before_reading_data(tmp_path):
    with pytest.raises(ValueError, match="between 0 and 1"):
        realeval.evaluate_real(tmp_path / "absent", shares=(0.5, 1.0))
