"""Cue features and the routed classifier: the labeling functions at scoring time, for chats and summaries only."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from pipelines.cues import ROUTED, CueFeatures, RoutedClassifier
from pipelines.text import clean_texts
from pipelines.weak import LF_NAMES

REVIEW = "质量太差了，用了两天就坏了，客服说要我自己承担运费"
CHAT = "买家：我想取消订单\n客服：已经为您取消了，款项原路退回"
SUMMARY = "用户询问发票怎么开"


def test_cue_columns_fire_on_chats_and_summaries_and_stay_zero_elsewhere():
    cues = CueFeatures(scale=3.0).fit([])
    x = cues.transform(clean_texts([REVIEW, CHAT, SUMMARY])).toarray()
    assert x.shape == (3, len(LF_NAMES) + 1)
    assert not x[0].any()  # a review: not even matched against the rules
    assert list(x[:, -1]) == [0, 1, 1]
    fired = {LF_NAMES[j] for j in np.flatnonzero(x[1, :-1])}
    assert "c_agent_cancel" in fired and set(x[1, :-1]) <= {0.0, 3.0}
    assert x[2, :-1].any()


def test_cue_names_say_which_rule_fired():
    names = CueFeatures().get_feature_names_out()
    assert names[-1] == ROUTED and names[0] == f"规则:{LF_NAMES[0]}" and len(names) == len(LF_NAMES) + 1


def _models() -> tuple[LogisticRegression, LogisticRegression, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    text, cue = rng.random((40, 4)), (rng.random((40, 2)) > 0.5).astype(float)
    y = np.array(["consumer", "merchant"] * 20)
    text_model = LogisticRegression().fit(text, y)
    cue_model = LogisticRegression().fit(np.hstack([text, cue]), y[::-1])  # disagrees on purpose
    return text_model, cue_model, text, cue


def test_routed_rows_average_the_two_models_and_the_others_keep_the_text_model():
    text_model, cue_model, text, cue = _models()
    routed = (np.arange(40) % 3 == 0).astype(float)[:, None]
    x = sp.csr_matrix(np.hstack([text, cue * routed, routed]))
    clf = RoutedClassifier(text_model, cue_model, n_text=4).fit(None, None)
    proba = clf.predict_proba(x)
    on = routed.ravel() > 0
    expected = text_model.predict_proba(text)
    expected[on] = (expected[on] + cue_model.predict_proba(np.hstack([text, cue])[on])) / 2
    np.testing.assert_allclose(proba, expected)
    assert list(clf.predict(x)) == list(clf.classes_[expected.argmax(axis=1)])
    np.testing.assert_allclose(clf.coef_, np.hstack([text_model.coef_, cue_model.coef_[:, 4:] / 2, [[0.0]]]))


def test_routed_classifier_refuses_unfitted_or_mismatched_models():
    text_model, _, text, _ = _models()
    with pytest.raises(ValueError, match="fit them first"):
        RoutedClassifier(text_model, LogisticRegression(), n_text=4).fit(None, None)
    other = LogisticRegression().fit(text, np.array(["none", "merchant"] * 20))
    with pytest.raises(ValueError, match="same classes"):
        RoutedClassifier(text_model, other, n_text=4).fit(None, None)


def test_vector_rows_take_their_share_from_the_vector_model_and_chats_keep_the_cue_average():
    text_model, cue_model, text, cue = _models()
    rng = np.random.default_rng(1)
    vectors = rng.random((40, 3))
    y = np.array(["consumer", "merchant"] * 20)
    vector_model = LogisticRegression().fit(vectors, y[rng.permutation(40)])
    routed = (np.arange(40) % 3 == 0).astype(float)[:, None]
    used = 1.0 - routed  # as for chats: routed to the cues, no vector
    used[1] = 0  # a row with neither
    x = sp.csr_matrix(np.hstack([text, cue * routed, routed, vectors * used, used]))
    clf = RoutedClassifier(text_model, cue_model, 4, vector_model, n_vector=4, vector_weight=0.4).fit(None, None)
    expected = text_model.predict_proba(text)
    on, with_vector = routed.ravel() > 0, used.ravel() > 0
    expected[on] = (expected[on] + cue_model.predict_proba(np.hstack([text, cue])[on])) / 2
    expected[with_vector] = 0.6 * expected[with_vector] + 0.4 * vector_model.predict_proba(vectors[with_vector])
    np.testing.assert_allclose(clf.predict_proba(x), expected)
    assert clf.coef_.shape == (1, x.shape[1]) and not clf.coef_[:, -4:].any()


def test_a_vector_model_that_never_saw_a_class_adds_nothing_to_it():
    _, _, text, cue = _models()
    y = np.array(["consumer", "merchant", "none", "merchant"] * 10)
    three = LogisticRegression().fit(text, y)
    cue_three = LogisticRegression().fit(np.hstack([text, cue]), y[::-1])
    vector_model = LogisticRegression().fit(text[:, :2], np.array(["consumer", "none"] * 20))
    x = sp.csr_matrix(np.hstack([text, np.zeros((40, 3)), text[:, :2], np.ones((40, 1))]))
    proba = RoutedClassifier(three, cue_three, 4, vector_model, n_vector=3).fit(None, None).predict_proba(x)
    expected = 0.5 * three.predict_proba(text)
    expected[:, [0, 2]] += 0.5 * vector_model.predict_proba(text[:, :2])
    np.testing.assert_allclose(proba, expected)
