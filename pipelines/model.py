"""The classifier: one scikit-learn Pipeline from a ``text`` column of raw case text to a party.

Cleaning (NFKC, masking) is the pipeline's first step, so the logged model gives the same answer on raw
text in any process; the ``text`` column is selected explicitly because MLflow's pyfunc hands the model
a DataFrame, and a bare vectorizer would iterate its column names instead of its rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from pipelines.text import clean_texts
from pipelines.tokenize import tokenize

TEXT_COLUMN = "text"

#: The only non-scikit-learn objects a saved model may contain; skops refuses to load anything else.
TRUSTED_TYPES: tuple[str, ...] = ("pipelines.text.clean_texts", "pipelines.tokenize.tokenize")


def build_pipeline(params: dict[str, Any]) -> Pipeline:
    """Word n-grams over role-aware jieba tokens plus character n-grams, into a class-weighted logistic regression."""
    feats, clf = params["features"], params["classifier"]
    words = TfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(feats["word_ngram"]),
        min_df=feats["word_min_df"],
        max_features=feats["word_max_features"],
        sublinear_tf=feats["sublinear_tf"],
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        analyzer="char",
        lowercase=False,
        ngram_range=tuple(feats["char_ngram"]),
        min_df=feats["char_min_df"],
        max_features=feats["char_max_features"],
        sublinear_tf=feats["sublinear_tf"],
        dtype=np.float32,
    )
    text = Pipeline(
        [
            ("clean", FunctionTransformer(clean_texts)),
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
        ]
    )
    return Pipeline(
        [
            ("select", ColumnTransformer([("text", text, TEXT_COLUMN)])),
            ("clf", LogisticRegression(C=clf["C"], class_weight=clf["class_weight"], max_iter=clf["max_iter"])),
        ]
    )
