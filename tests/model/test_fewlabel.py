"""Few-label training learns more from a small labeled set plus unlabeled texts than from the labeled set alone."""

import numpy as np
import pandas as pd
import pytest

from pipelines.config import DEMO_FILE, load_params
from pipelines.cues import RoutedClassifier
from pipelines.explain import Explainer
from pipelines.fewlabel import fit_few_label
from pipelines.metrics import party_macro_f1
from pipelines.model import TEXT_COLUMN
from pipelines.text import clean_texts
from pipelines.weak import genre_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """20 labeled demo cases per class, 1,500 unlabeled, 800 to test: the analysts' situation in miniature."""
    cases = pd.read_csv(DEMO_FILE, dtype=str, keep_default_na=False).sample(frac=1.0, random_state=0)
    labeled = cases.groupby("label").head(20)
    rest = cases.drop(labeled.index)
    return labeled, rest.iloc[:1500], rest.iloc[1500:2300]


def _score(labeled: pd.DataFrame, unlabeled: pd.DataFrame, test: pd.DataFrame, fewlabel: dict) -> float:
    params = load_params() | {"fewlabel": fewlabel}
    model = fit_few_label(labeled["text"], labeled["label"], unlabeled["text"].tolist(), params).model
    return party_macro_f1(test["label"], model.predict(test[[TEXT_COLUMN]]))


def test_few_label_beats_labeled_only(split):
    labeled, unlabeled, test = split
    alone = _score(labeled, unlabeled, test, {"weak_weight": 0, "self_weight": 0})
    few = _score(labeled, unlabeled, test, {})
    assert few >= alone + 0.015, f"few-label {few:.3f} vs labeled-only {alone:.3f}"


def test_fitted_model_keeps_the_pipeline_shape(split):
    labeled, unlabeled, _ = split
    fit = fit_few_label(labeled["text"], labeled["label"], unlabeled["text"].tolist(), load_params())
    assert [name for name, _ in fit.model.steps] == ["select", "clf"]
    assert set(fit.extra_rows) == {"weak", "self", "teacher"}  # no demo rows: none were given
    assert sum(fit.extra_rows["self"].values()) > 0


def _without_vectors() -> dict:
    params = load_params()
    return params | {"fewlabel": params["fewlabel"] | {"vector_weight": 0}}


def test_cue_model_decides_with_the_text_model_on_chats_and_summaries_only(split):
    labeled, unlabeled, test = split
    model = fit_few_label(labeled["text"], labeled["label"], unlabeled["text"].tolist(), _without_vectors()).model
    union = model.named_steps["select"].named_transformers_["text"].named_steps["features"]
    assert [name for name, _ in union.transformer_list] == ["words", "chars", "cues"]
    clf = model.named_steps["clf"]
    assert isinstance(clf, RoutedClassifier)
    x = model.named_steps["select"].transform(test[[TEXT_COLUMN]]).tocsr()
    routed = np.array([genre_of(text) in ("chat", "summary") for text in clean_texts(test["text"].tolist())])
    assert 0 < routed.sum() < len(test)
    text_only = clf.text_model.predict_proba(x[:, : clf.n_text])
    proba = model.predict_proba(test[[TEXT_COLUMN]])
    np.testing.assert_allclose(proba[~routed], text_only[~routed])
    assert np.abs(proba[routed] - text_only[routed]).max() > 0.01
    explainer = Explainer.for_model([vec for _, vec in union.transformer_list], clf)
    terms = pd.Series(explainer.top_terms(x, proba.argmax(axis=1)))
    assert terms[routed].str.contains("规则:").any()  # a chat's explanation can name the rules that fired
    assert not terms[~routed].str.contains("规则:").any()


def test_teacher_labels_every_unlabeled_chat_and_summary_and_nothing_else(split):
    labeled, unlabeled, _ = split
    fit = fit_few_label(labeled["text"], labeled["label"], unlabeled["text"].tolist(), load_params())
    genres = [genre_of(text) for text in clean_texts(unlabeled["text"].drop_duplicates().tolist())]
    assert sum(fit.extra_rows["teacher"].values()) == sum(g in ("chat", "summary") for g in genres) > 0
    assert len(fit.extra_rows["teacher"]) >= 3  # the teacher spreads over parties, not one class


def test_secondary_labels_add_weighted_rows_that_pull_toward_that_party(split):
    labeled = split[0]
    mixed = labeled[labeled["label"] == "merchant"].index[:10]
    secondary = pd.Series("", index=labeled.index)
    secondary[mixed] = "logistics"
    secondary[labeled[labeled["label"] == "platform"].index[:2]] = "platform"  # its own label: ignored
    only_labeled = {"weak_weight": 0, "self_weight": 0, "teacher_weight": 0}

    def fit(weight: float):
        params = load_params() | {"fewlabel": only_labeled | {"secondary_weight": weight}}
        return fit_few_label(labeled["text"], labeled["label"], [], params, secondary=secondary.tolist())

    with_secondary, without = fit(0.5), fit(0.0)
    assert with_secondary.extra_rows["secondary"] == {"logistics": 10}
    assert "secondary" not in without.extra_rows

    def logistics_share(model) -> float:
        proba = model.predict_proba(labeled.loc[mixed, [TEXT_COLUMN]])
        return float(proba[:, list(model.classes_).index("logistics")].mean())

    assert logistics_share(with_secondary.model) > logistics_share(without.model) + 0.02


def test_vector_model_has_its_share_on_every_genre_but_chats(split):
    labeled, unlabeled, test = split
    params = load_params()
    model = fit_few_label(labeled["text"], labeled["label"], unlabeled["text"].tolist(), params).model
    union = model.named_steps["select"].named_transformers_["text"].named_steps["features"]
    assert [name for name, _ in union.transformer_list] == ["words", "chars", "cues", "vectors"]
    clf = model.named_steps["clf"]
    assert clf.vector_weight == params["fewlabel"]["vector_weight"] > 0
    plain = fit_few_label(labeled["text"], labeled["label"], unlabeled["text"].tolist(), _without_vectors()).model
    genres = np.array([genre_of(text) for text in clean_texts(test["text"].tolist())])
    with_vectors, without = (m.predict_proba(test[[TEXT_COLUMN]]) for m in (model, plain))
    chats = genres == "chat"
    assert 0 < chats.sum() < len(test)
    np.testing.assert_allclose(with_vectors[chats], without[chats], atol=1e-9)
    assert np.abs(with_vectors[~chats] - without[~chats]).max() > 0.05
    x = model.named_steps["select"].transform(test[[TEXT_COLUMN]]).tocsr()
    explainer = Explainer.for_model([vec for _, vec in union.transformer_list], clf)
    assert not pd.Series(explainer.top_terms(x, with_vectors.argmax(axis=1))).str.contains("向量").any()


def test_labeled_cases_in_the_pool_are_left_out_and_the_model_keeps_its_parts(split):
    """A labeled chat may come back among the unlabeled exports as turn rows (each turn stripped): it is the
    same case, so it must not return with a machine label. With no pool text left, the registered model still
    has every part that cross-validation measured."""
    labeled = split[0]
    same_cases = [f" {text} \n" for text in labeled["text"]]
    fit = fit_few_label(labeled["text"], labeled["label"], same_cases, load_params())
    assert fit.pool_texts == 0 and not {"weak", "self", "teacher"} & set(fit.extra_rows)
    union = fit.model.named_steps["select"].named_transformers_["text"].named_steps["features"]
    assert [name for name, _ in union.transformer_list] == ["words", "chars", "cues", "vectors"]
    assert isinstance(fit.model.named_steps["clf"], RoutedClassifier)


def test_a_pool_without_chats_or_summaries_teaches_nothing_and_fits(split):
    """Reviews or complaints alone are the commonest unlabeled export: the teacher, which labels chats and
    summaries, has no rows then, and the fit goes on with weak and pseudo-labeled rows."""
    labeled, unlabeled, _ = split
    kinds = [genre_of(text) for text in clean_texts(unlabeled["text"].tolist())]
    plain = [raw for raw, kind in zip(unlabeled["text"], kinds, strict=True) if kind in ("review", "complaint")]
    assert 0 < len(plain) < len(unlabeled)
    fit = fit_few_label(labeled["text"], labeled["label"], plain, load_params())
    assert "teacher" not in fit.extra_rows and {"weak", "self"} <= set(fit.extra_rows)
    assert fit.members == ("cues", "vectors")
