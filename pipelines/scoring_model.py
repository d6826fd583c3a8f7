"""The model a scoring job uses: loaded once, with its classes, review threshold and identity.

The scorer runs the pipeline's steps itself instead of calling ``predict_proba`` on raw text: it needs the
cleaned texts to tell empty ones apart and the feature matrix to explain each row, so every text is
cleaned once and vectorized once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from mlflow.tracking import MlflowClient
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipelines.explain import Explainer
from pipelines.model import FastTfidfVectorizer
from pipelines.registry import load_sklearn
from pipelines.tables import InputError
from pipelines.text import clean_texts
from pipelines.tokenize import shared_tokens

#: ``models:/name@alias`` or ``models:/name/version``.
_REGISTRY_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))")
#: The vectorizer whose vocabulary defines "seen" tokens for the drift signal.
WORDS = "words"
#: Texts per chunk whose word tokens are checked against the vocabulary (the drift signal's sample).
DRIFT_SAMPLE = 1_000


@dataclass(frozen=True)
class ModelIdentity:
    """What a scored row names as its source: registered name and version (when registered) and run id; and
    what the job asked for (``uri``: an alias moves, so the scoring run records both)."""

    name: str
    version: str
    run_id: str
    uri: str = ""


def identify(model_uri: str, mlmodel: dict[str, Any], client: MlflowClient | None = None) -> ModelIdentity:
    """Name, version and run id of a model; an alias is resolved (through ``client``) to the version it points
    at now. A model that is not in the registry goes by its URI or path."""
    run_id = str(mlmodel.get("run_id") or "")
    found = _REGISTRY_URI.fullmatch(model_uri)
    if found is None:
        return ModelIdentity(model_uri, "", run_id, model_uri)
    name, alias, version = found["name"], found["alias"], found["version"]
    if alias is not None:
        if client is None:
            raise ValueError(f"resolving the alias of {model_uri} needs the registry's client")
        version = client.get_model_version_by_alias(name, alias).version
    return ModelIdentity(name, str(version), run_id, model_uri)


@dataclass(frozen=True)
class ScoringModel:
    """A trained liability pipeline taken apart into the steps the scorer runs, plus its metadata."""

    identity: ModelIdentity
    classes: list[str]
    review_threshold: float
    vectorizers: list[tuple[str, TfidfVectorizer]]
    clf: LogisticRegression

    @cached_property
    def explainer(self) -> Explainer:
        """Built on first use, or by :meth:`prepare` (a tenth of a second of indexing every feature name)."""
        return Explainer.for_model([vec for _, vec in self.vectorizers], self.clf)

    def prepare(self) -> None:
        """Build now what the first texts would otherwise build: the explanation index and the vectorizers'
        lookup indexes. A scorer with time to spare before it forks its workers calls this, and the
        workers share the result; otherwise each worker builds them on its first task."""
        self.explainer  # noqa: B018 (a cached property: reading it builds it)
        for _, vec in self.vectorizers:
            if isinstance(vec, FastTfidfVectorizer):
                vec.build_indexes()

    @classmethod
    def load(
        cls, local_dir: Path, mlmodel: dict[str, Any], identity: ModelIdentity, allow_pickle: bool = False
    ) -> ScoringModel:
        """Load (safely, see :mod:`pipelines.registry`) a model folder with its review threshold."""
        metadata = mlmodel.get("metadata") or {}
        if "review_threshold" not in metadata:
            raise InputError(
                identity.name, "the model has no review_threshold in its metadata; train it with `liability train`"
            )
        pipeline = load_sklearn(str(local_dir), allow_pickle)
        try:
            return cls.from_pipeline(pipeline, identity, float(metadata["review_threshold"]))
        except (AttributeError, KeyError, TypeError) as exc:
            raise InputError(
                identity.name, f"not a liability pipeline (select → clean → features → clf): {exc}"
            ) from exc

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline, identity: ModelIdentity, review_threshold: float) -> ScoringModel:
        """Take apart a fitted pipeline built by :func:`pipelines.model.build_pipeline`."""
        vectorizers, clf = _steps(pipeline)
        return cls(
            identity=identity,
            classes=[str(c) for c in clf.classes_],
            review_threshold=review_threshold,
            vectorizers=vectorizers,
            clf=clf,
        )

    def features(self, cleaned: list[str], drift_sample: int = DRIFT_SAMPLE) -> tuple[sp.csr_matrix, int, int]:
        """The feature matrix of cleaned texts (the FeatureUnion's output), with the drift token counts.

        Each vectorizer transforms the whole batch through its own (fast) path; within the batch a single-line
        text is segmented once (:func:`pipelines.tokenize.shared_tokens`). The drift signal needs the word
        tokens themselves, so it analyzes the first ``drift_sample`` texts again (the scorer asks for
        :data:`DRIFT_SAMPLE` per chunk): an estimate of the unseen-token share at a few percent of the cost
        of counting every text.
        """
        with shared_tokens():  # the word vectors and the drift sample reuse the word block's tokens
            matrix = sp.hstack([vec.transform(cleaned) for _, vec in self.vectorizers], format="csr")
            words = dict(self.vectorizers)[WORDS]
            analyze = words.build_analyzer()
            # Higher n-grams are tokens joined by spaces, and a token never holds a space.
            tokens = [g for text in cleaned[:drift_sample] for g in analyze(text) if " " not in g]
        return matrix, len(tokens), sum(t not in words.vocabulary_ for t in tokens)

    def predict_proba(
        self, cleaned: list[str], drift_sample: int = DRIFT_SAMPLE
    ) -> tuple[np.ndarray, list[str], int, int]:
        """Class probabilities and top terms of cleaned, non-empty texts, with the drift token counts."""
        matrix, tokens, unseen = self.features(cleaned, drift_sample)
        proba = self.clf.predict_proba(matrix)
        terms = self.explainer.top_terms(matrix, proba.argmax(axis=1))
        return proba, terms, tokens, unseen


def _steps(pipeline: Pipeline) -> tuple[list[tuple[str, TfidfVectorizer]], LogisticRegression]:
    """The vectorizers (in FeatureUnion order) and the classifier of a pipeline built by ``pipelines.model``."""
    text = pipeline.named_steps["select"].named_transformers_["text"]
    if text.named_steps["clean"].func is not clean_texts:
        raise TypeError("its cleaning step is not pipelines.text.clean_texts")
    union = text.named_steps["features"]
    if union.transformer_weights:
        raise TypeError("weighted feature unions are not supported")
    vectorizers = [(name, vec) for name, vec in union.transformer_list]
    if WORDS not in dict(vectorizers):
        raise KeyError(f"no '{WORDS}' vectorizer")
    return vectorizers, pipeline.named_steps["clf"]
