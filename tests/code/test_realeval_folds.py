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
