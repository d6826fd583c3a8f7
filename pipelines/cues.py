"""The labeling functions at scoring time: cue features for chats and summaries, and the classifier that uses them.

A bag of words learns little from a few hundred labeled chats, and what it learns does not carry to chats it
never saw: cross-validated on ``gold/dev.csv`` with the validation fold's texts left out of the unlabeled
pool, the few-label model's chat macro-F1 is 0.44 (0.60 when those texts are in the pool and the teacher has
labeled them). The labeling functions encode the cues that carry over (an agent's 缺货/为您取消, a summary's
用户询问…), so for chats and summaries the deployed model averages the TF-IDF model with a second logistic
regression on [TF-IDF | LF firings], the few-label teacher's own model; other genres keep the TF-IDF model
alone, whose words carry the party there. The LFs are regular expressions, run only on chats and summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from pipelines.weak import LF_NAMES, genre_of, indicators, votes_of_cleaned

#: Name of the last cue column, 1 on the rows whose genre is routed to the cue model.
ROUTED = "routed"


def lf_columns(votes: np.ndarray, scale: float) -> sp.csr_matrix:
    """One column per labeling function, ``scale`` where it fired, else 0.

    Above 1, the L2 penalty on the firings' coefficients weighs less than on the ~64k TF-IDF columns, so the
    cue model leans on the firings rather than on the words the TF-IDF model already covers.
    """
    return sp.csr_matrix(indicators(votes) * scale)


class CueFeatures(TransformerMixin, BaseEstimator):
    """Cleaned texts → the LF columns (``scale`` where fired) and a :data:`ROUTED` flag, for the texts whose
    genre is in ``genres``; all zeros for the others, which are not even matched against the rules."""

    analyzer = "cue"

    def __init__(self, scale: float = 1.0, genres: tuple[str, ...] = ("chat", "summary")) -> None:
        self.scale = scale
        self.genres = genres

    def fit(self, texts: Sequence[str], y: Any = None) -> CueFeatures:
        """Nothing to learn: the rules are fixed. Records their number, which marks the transformer fitted."""
        self.n_rules_ = len(LF_NAMES)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The cue columns of each text (see the class)."""
        texts = list(texts)
        rows = np.array([i for i, text in enumerate(texts) if genre_of(text) in self.genres], dtype=int)
        routed = sp.csr_matrix((np.ones(len(rows)), (rows, np.zeros(len(rows), dtype=int))), shape=(len(texts), 1))
        cues = sp.csr_matrix((len(texts), len(LF_NAMES)))
        if len(rows):
            fired = lf_columns(votes_of_cleaned([texts[i] for i in rows]), self.scale).tocoo()
            cues = sp.csr_matrix((fired.data, (rows[fired.row], fired.col)), shape=cues.shape)
        return sp.hstack([cues, routed], format="csr", dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``规则:<LF name>`` per labeling function, then :data:`ROUTED`: what an explanation shows."""
        return np.array([*(f"规则:{name}" for name in LF_NAMES), ROUTED], dtype=object)


class RoutedClassifier(ClassifierMixin, BaseEstimator):
    """Class probabilities from the TF-IDF model, averaged with the cue model's on routed rows, then (when a
    vector model is given) with the word-vector model's on the rows it covers.

    Input columns: the ``n_text`` TF-IDF columns, then the :class:`CueFeatures` columns (the LF columns, then
    the routed flag), then the ``n_vector`` columns of :class:`pipelines.wordvectors.WordVectorFeatures`
    (the vector, then its flag). The models are fitted by :func:`pipelines.fewlabel.fit_few_label`, not
    here: the cue model learns from the labeled and demo rows only, the vector model from the labeled rows,
    the TF-IDF model from every extra row too.
    """

    def __init__(
        self,
        text_model: Any = None,
        cue_model: Any = None,
        n_text: int = 0,
        vector_model: Any = None,
        n_vector: int = 0,
        vector_weight: float = 0.5,
    ) -> None:
        self.text_model = text_model
        self.cue_model = cue_model
        self.n_text = n_text
        self.vector_model = vector_model
        self.n_vector = n_vector
        self.vector_weight = vector_weight

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> RoutedClassifier:
        """Adopt the fitted models; refitting them here would lose how each was trained."""
        models = [self.text_model, self.cue_model, *([self.vector_model] if self._vectors() else [])]
        if not all(hasattr(model, "classes_") for model in models):
            raise ValueError("RoutedClassifier wraps fitted models; fit them first (fit_few_label does)")
        if list(self.text_model.classes_) != list(self.cue_model.classes_):
            raise ValueError("the TF-IDF and cue models must know the same classes")
        if self._vectors() and not set(self.vector_model.classes_) <= set(self.text_model.classes_):
            raise ValueError("the vector model knows a class the TF-IDF model does not")
        self.classes_ = self.text_model.classes_
        return self

    def _vectors(self) -> bool:
        # Models saved before the word vectors existed have no such attribute.
        return getattr(self, "vector_model", None) is not None

    @property
    def coef_(self) -> np.ndarray:
        """Weights for explanations: the TF-IDF model's on the words, half the cue model's on the rule columns
        (its share of the average on chats; on summaries the vector model takes part of that), 0 on the flags
        and on the vector columns, which name no word. A chat's explanation can then name the rules that pushed
        it toward its party; the rule columns are 0 on other genres."""
        rules = 0.5 * np.asarray(self.cue_model.coef_)[:, self.n_text :]
        vectors = np.zeros((rules.shape[0], self.n_vector if self._vectors() else 0))
        return np.hstack([np.asarray(self.text_model.coef_), rules, np.zeros((rules.shape[0], 1)), vectors])

    def predict_proba(self, x: sp.spmatrix) -> np.ndarray:
        """The TF-IDF model's probabilities; on routed rows, their mean with the cue model's; on rows with a
        word vector, ``vector_weight`` of the vector model's and the rest of that."""
        x = sp.csr_matrix(x)
        cue_end = x.shape[1] - (self.n_vector if self._vectors() else 0)
        proba = self.text_model.predict_proba(x[:, : self.n_text])
        routed = np.flatnonzero(x[:, cue_end - 1].toarray().ravel() > 0)
        if len(routed):
            proba[routed] = (proba[routed] + self.cue_model.predict_proba(x[routed][:, : cue_end - 1])) / 2
        if self._vectors():
            vectors = x[:, cue_end:]
            used = np.flatnonzero(vectors[:, -1].toarray().ravel() > 0)
            if len(used):
                vector_proba = np.zeros((len(used), len(self.classes_)))
                columns = np.searchsorted(self.classes_, self.vector_model.classes_)
                vector_proba[:, columns] = self.vector_model.predict_proba(vectors[used][:, :-1].toarray())
                proba[used] = (1 - self.vector_weight) * proba[used] + self.vector_weight * vector_proba
        return proba

    def predict(self, x: sp.spmatrix) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(x).argmax(axis=1)]
