"""Top terms per row: contributions of a hand-built linear model, read back as words."""

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipelines.explain import Explainer, char_term, word_term

DOCS = ["快递 丢件 破损", "快递 丢件", "商家 假货 破损", "商家 假货"]
LABELS = ["logistics", "logistics", "merchant", "merchant"]


def _model() -> tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression, np.ndarray]:
    words = TfidfVectorizer(token_pattern=r"\S+").fit(DOCS)
    chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit(DOCS)
    features = sp.hstack([words.transform(DOCS), chars.transform(DOCS)], format="csr")
    clf = LogisticRegression(C=10).fit(features, LABELS)
    return words, chars, clf, features


def test_shares_are_value_times_weight_of_the_predicted_class():
    words = TfidfVectorizer(token_pattern=r"\S+").fit(DOCS)
    x = words.transform(["快递 丢件 商家"])
    clf_words = LogisticRegression().fit(words.transform(DOCS), LABELS)
    explainer = Explainer.for_model([words], clf_words)
    predicted = clf_words.predict_proba(x).argmax(axis=1)
    (terms,) = explainer.top_terms(x, predicted, k=5)
    weights = clf_words.coef_[0] * (1 if clf_words.classes_[predicted[0]] == "merchant" else -1)
    expected = {name: x[0, j] * weights[j] for name, j in words.vocabulary_.items() if x[0, j] * weights[j] > 0}
    shown = dict(item.rstrip(")").split("(") for item in terms.split(" "))
    assert set(shown) == set(expected), "every positive contribution, and nothing else"
    for name, value in expected.items():
        assert float(shown[name]) == round(value, 2)
    assert list(shown) == sorted(expected, key=lambda n: (-expected[n], n)), "largest first, equal ones by name"


def test_word_and_char_twins_are_summed_and_k_is_respected():
    words, chars, clf, features = _model()
    explainer = Explainer.for_model([words, chars], clf)
    predicted = clf.predict_proba(features).argmax(axis=1)
    terms = explainer.top_terms(features, predicted, k=2)
    assert len(terms) == len(DOCS)
    assert all(len(t.split(" ")) <= 2 for t in terms)
    assert "快递" in terms[0] or "丢件" in terms[0], terms[0]
    assert terms[2].startswith(("商家", "假货")), terms[2]
    assert terms[0].count("快递(") <= 1, "word 快递 and char bigram 快递 appear once, summed"


def test_rows_without_positive_contributions_are_empty():
    words, chars, clf, _ = _model()
    explainer = Explainer.for_model([words, chars], clf)
    x = sp.hstack([words.transform(["完全 无关"]), chars.transform(["完全 无关"])], format="csr")
    assert explainer.top_terms(x, np.array([0])) == [""]


def test_terms_read_as_words():
    assert word_term("快递 丢件") == "快递丢件"
    assert word_term("客服|请 客服|稍等") == "客服|请稍等"
    assert word_term("好的 客服|稍等") == "好的客服|稍等"
    assert char_term("，\n") == ""
    letters_and_digits = [chr(c) for c in range(0x110000) if chr(c).isalnum()]
    assert all(char_term(ch) == ch for ch in letters_and_digits)
    assert sum(char_term(chr(c)) != "" for c in range(0x110000)) == len(letters_and_digits)
    assert char_term("到\n客") == "到␣客"


def test_top_terms_equal_a_per_row_sort_whatever_the_batch():
    # Many positive shares per row, ties included: the candidates cut and the one-key sort change nothing.
    rng = np.random.default_rng(0)
    n_rows, n_terms = 300, 40
    features = sp.random(n_rows, n_terms, density=0.5, random_state=1, format="csr")
    features.data = np.round(features.data * 4) / 4 + 0.25  # repeated values make ties
    weights = np.round(rng.normal(size=(3, n_terms)) * 8) / 8  # dyadic: every product is exact, ties are ties
    terms = np.array([f"t{j}" for j in range(n_terms)], dtype=object)
    explainer = Explainer(terms, sp.identity(n_terms, format="csr"), weights)
    predicted = rng.integers(0, 3, n_rows)
    got = explainer.top_terms(features, predicted, k=5)
    for i in range(n_rows):
        row = features.getrow(i)
        shares = [(row.data[p] * weights[predicted[i], j], j) for p, j in enumerate(row.indices)]
        best = sorted((s for s in shares if s[0] > 0), key=lambda s: (-s[0], s[1]))[:5]  # ties: term order
        assert got[i] == " ".join(f"t{j}({s:+.2f})" for s, j in best), i
    assert [t for a in range(0, n_rows, 7) for t in explainer.top_terms(features[a : a + 7], predicted[a:], 5)] == got
