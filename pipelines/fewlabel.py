"""Few-label training: a small labeled export plus unlabeled texts (and optionally the demo corpus) in one fit.

The deployed model keeps the ordinary shape of :func:`pipelines.model.build_pipeline`, so scoring,
explanations and safe loading are unchanged; only the training data grows. The text features (vocabulary
and idf) are fitted on the labeled cases, never on the pool, because a pool that is 94% reviews would
down-weight exactly the review words that carry the party signal; with ``demo_vocabulary`` the demo corpus
(balanced over genres and parties) joins them, so that the words of the demo and pool rows that the few
labeled cases lack become features instead of being dropped. The classifier then learns from the labeled
cases (weight 1) and from extra rows with a smaller weight:

- weak labels: the labeling functions of :mod:`pipelines.weak`, combined by a label model fitted on the
  labeled cases, label the unlabeled texts; the most confident are kept *per class*, so the extra rows do
  not drown the rare parties in merchant reviews;
- pseudo-labels (self-training): the labeled-only model labels the unlabeled texts; again the most
  confident per class are kept;
- the demo corpus, whose synthetic cases cover chat and platform wording the labeled export lacks;
- secondary labels: where the labeled export names a second party the text also blames, the case counts
  once more under that party with a small weight. A review that complains about the goods and about a slow
  courier then teaches "courier words lean logistics" without outvoting its merchant label;
- teacher labels on the unlabeled chats and summaries: the bag of words learns little from a few hundred
  chats, while the labeling functions encode their cues (an agent's 缺货/为您取消, a summary's 用户询问…), so
  a second model on [TF-IDF | LF firings] (the cue model) is averaged with the first fit and labels those
  texts; the final fit learns them as ordinary rows.
  A firing can count more than 1 in the teacher's features (``teacher_lf_scale``): with an L2 penalty, a
  larger feature value needs a smaller coefficient, so the teacher leans more on the LF firings than on the
  ~64k TF-IDF columns, which the first fit already covers in the average.

The teacher's labels make the final fit right on the pool's own chats and summaries, but not on new ones: a
bag of words does not learn the rules' cues from them. So the deployed model keeps the cue model and, on
chats and summaries, averages it with the final fit (:mod:`pipelines.cues`); on other genres the final fit
alone decides.

With ``vector_weight``, a third logistic regression, over the pretrained word vectors of
:mod:`pipelines.wordvectors` and fitted on the labeled cases alone, takes that share of the average on every
genre but chats: it knows the words that the few labeled cases lack, which no extra row can teach the bag of words.

:func:`fit_few_label` sees only the cases it is given, so cross-validation that calls it per fold is honest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from pipelines.card import EXTRA_ROWS_ARTIFACT, LF_TABLE_ARTIFACT
from pipelines.config import DEMO_FILE
from pipelines.cues import CueFeatures, RoutedClassifier, lf_columns
from pipelines.demo import load_demo
from pipelines.encoder import word_encoder
from pipelines.model import TEXT_COLUMN, build_pipeline, text_frame
from pipelines.realdata import Unlabeled
from pipelines.text import clean_texts
from pipelines.weak import LabelModel, apply_lfs, genre_of, lf_table
from pipelines.wordvectors import WordVectorFeatures

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FewLabelSettings:
    """How many extra rows of each kind to add, and with what weight (``[fewlabel]`` in params.toml)."""

    weak_threshold: float = 0.8
    weak_per_class: int = 1000
    weak_weight: float = 0.3
    self_threshold: float = 0.6
    self_per_class: int = 1000
    self_weight: float = 0.3
    demo_weight: float = 0.0
    #: Demo rows of these genres (as :func:`pipelines.weak.genre_of` reads the text) get this weight instead.
    demo_genre_weights: dict[str, float] = field(default_factory=dict)
    #: Weight of the unlabeled texts of ``teacher_genres`` labeled by the TF-IDF + LF teacher (0 = off).
    teacher_weight: float = 0.0
    teacher_genres: tuple[str, ...] = ()
    #: Fit the text features (vocabulary and idf) on the labeled cases plus the demo corpus, when demo rows
    #: are used; off, on the labeled cases alone.
    demo_vocabulary: bool = False
    #: Value of a firing labeling function's column in the cue model's [TF-IDF | LF] features (teacher and scoring).
    teacher_lf_scale: float = 1.0
    #: Weight of a labeled case's copy under its secondary label, where the export names one (0 = off).
    secondary_weight: float = 0.0
    #: Share of the word-vector model in the average on the genres it covers (0 = off; needs the teacher).
    vector_weight: float = 0.0
    #: Inverse regularisation of the word-vector model, and how many dimensions of the word vectors it sees.
    vector_C: float = 4.0
    vector_dimensions: int = 256
    #: Genres the word-vector model stays out of.
    vector_skip_genres: tuple[str, ...] = ("chat",)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FewLabelSettings:
        """Settings from the ``[fewlabel]`` table of the hyperparameters (defaults where absent)."""
        table = dict(params.get("fewlabel", {}))
        for key in ("teacher_genres", "vector_skip_genres"):  # TOML gives lists; absent keys keep the defaults
            if key in table:
                table[key] = tuple(table[key])
        settings = cls(**table)
        if settings.vector_weight > 0 and not (settings.teacher_weight > 0 and settings.teacher_genres):
            raise ValueError("[fewlabel] vector_weight needs the teacher: teacher_weight > 0 and teacher_genres")
        return settings


@dataclass
class FewLabelFit:
    """The fitted pipeline, how many extra rows of each source and class went into it, and (when fitted for a
    training run) the labeling functions' table on the labeled cases and the unlabeled sources read."""

    model: Pipeline
    extra_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    lf_table: pd.DataFrame | None = None
    sources: tuple[str, ...] = ()
    unlabeled_texts: int = 0
    pool_texts: int = 0  # the unlabeled texts left once the labeled ones are taken out
    members: tuple[str, ...] = ()  # models averaged in beside the text model: "cues", "vectors"


def top_per_class(labels: np.ndarray, confidence: np.ndarray, threshold: float, per_class: int) -> np.ndarray:
    """Indices of the ``per_class`` most confident rows of each label at or above ``threshold``.

    Balancing per class is what makes extra rows help: a plain threshold keeps almost only merchant reviews.
    """
    keep: list[np.ndarray] = []
    for label in sorted(set(labels) - {""}):
        rows = np.flatnonzero((labels == label) & (confidence >= threshold))
        keep.append(rows[np.argsort(-confidence[rows], kind="stable")[:per_class]])
    return np.sort(np.concatenate(keep)) if keep else np.array([], dtype=int)


def demo_weights(texts: Sequence[str], settings: FewLabelSettings) -> np.ndarray:
    """The weight of each demo row: ``demo_genre_weights`` for its genre (read from the text), else ``demo_weight``.

    Chats and summaries are where the labeled export is thinnest and where the demo corpus transfers best
    (the demo-only model beats the labeled-only one on them), so they can count more than demo reviews.
    """
    by_genre = settings.demo_genre_weights
    if not by_genre:
        return np.full(len(texts), settings.demo_weight)
    return np.array([by_genre.get(genre_of(text), settings.demo_weight) for text in clean_texts(list(texts))])


def _with_lfs(x: sp.spmatrix, votes: np.ndarray, scale: float = 1.0) -> sp.csr_matrix:
    """TF-IDF rows with the LF columns of :func:`pipelines.cues.lf_columns` appended (the cue model's features)."""
    return sp.hstack([x, lf_columns(votes, scale)]).tocsr()


def _vector_model(
    clf: Any, texts: list[str], y: np.ndarray, corpus: list[str], settings: FewLabelSettings
) -> tuple[WordVectorFeatures, Any]:
    """The word-vector features, fitted on every text of the fit (``corpus``: labeled, unlabeled and demo,
    none of which needs a label), and a logistic regression on the labeled cases' vectors alone: the demo
    rows at weight 0.1 or 0.3 made it worse (0.738 against 0.748, 9 fold seeds)."""
    vectors = WordVectorFeatures(settings.vector_dimensions, settings.vector_skip_genres).fit(clean_texts(corpus))
    vector_model = clone(clf).set_params(C=settings.vector_C).fit(vectors.embed(clean_texts(texts)), y)
    return vectors, vector_model


def _route(
    model: Pipeline, cue_model: Any, n_text: int, settings: FewLabelSettings, vectors: tuple[Any, Any] | None
) -> None:
    """Make the fitted pipeline average ``cue_model`` in on the teacher's genres and, given ``vectors``
    (features and model), the word-vector model on the others (see the module).

    The cue and vector columns join the text features as more members of their union, so every consumer of
    the pipeline (pyfunc, Spark, the scorer that runs the steps itself) computes them the same way.
    """
    union = model.named_steps["select"].named_transformers_["text"].named_steps["features"]
    union.transformer_list.append(("cues", CueFeatures(settings.teacher_lf_scale, settings.teacher_genres).fit([])))
    routed = RoutedClassifier(model.named_steps["clf"], cue_model, n_text)
    if vectors is not None:
        features, vector_model = vectors
        union.transformer_list.append(("vectors", features))
        routed.set_params(
            vector_model=vector_model,
            n_vector=len(features.get_feature_names_out()),
            vector_weight=settings.vector_weight,
        )
    model.steps[-1] = ("clf", routed.fit(None, None))


def mean_proba(models: Sequence[tuple[Any, sp.spmatrix]], classes: np.ndarray) -> np.ndarray:
    """The mean of the models' class probabilities on their own features, columns in ``classes`` order.

    Aligning by class name keeps the average right when one model never saw a class.
    """
    total = np.zeros((models[0][1].shape[0], len(classes)))
    for model, x in models:
        total[:, np.searchsorted(classes, model.classes_)] += model.predict_proba(x)
    return total / len(models)


def _spaceless(text: str) -> str:
    """A text without its whitespace: the key that finds a labeled case in the pool, where the same chat may
    come from turn rows (each turn stripped) while the labeled export kept a trailing space."""
    return "".join(text.split())


def fit_few_label(
    texts: Sequence[str],
    labels: Sequence[str],
    unlabeled: Sequence[str],
    params: dict[str, Any],
    *,
    demo: pd.DataFrame | None = None,
    secondary: Sequence[str] | None = None,
) -> FewLabelFit:
    """Fit the pipeline on labeled texts plus weighted weak, pseudo-labeled, (optionally) demo, secondary-label
    and teacher-labeled rows (the unlabeled texts of ``teacher_genres``, labeled after a first fit).

    ``demo`` is a labeled case table (``text``, ``label``) used when ``demo_weight`` is positive;
    ``secondary`` holds each labeled text's secondary label ("" for none), used when ``secondary_weight`` is.
    """
    settings = FewLabelSettings.from_params(params)
    if settings.vector_weight > 0:
        word_encoder()  # a missing encoder stops the training now, not after minutes of fitting
    texts, y = list(texts), np.asarray(labels, dtype=object)
    seen = {_spaceless(t) for t in texts}
    pool = [t for t in dict.fromkeys(unlabeled) if _spaceless(t) not in seen]
    if not pool:
        log.warning(
            "%s: no weak, pseudo- or teacher-labeled rows; the fit learns from the labeled cases (and the demo "
            "corpus and secondary labels, when set)",
            "every unlabeled text is also a labeled case" if unlabeled else "no unlabeled text was read",
        )

    model = build_pipeline(params)
    features, clf = model.named_steps["select"], model.named_steps["clf"]
    if demo is not None and settings.demo_weight > 0 and settings.demo_vocabulary:
        features.fit(text_frame(texts + demo[TEXT_COLUMN].tolist()))
        x_labeled = features.transform(text_frame(texts))
    else:
        x_labeled = features.fit_transform(text_frame(texts))
    votes = apply_lfs(texts) if settings.weak_weight > 0 or settings.teacher_weight > 0 else None
    blocks, targets, weights = [x_labeled], [y], [np.ones(len(y))]
    extra: dict[str, dict[str, int]] = {}

    def add(source: str, x: sp.spmatrix, rows_labels: np.ndarray, weight: float | np.ndarray) -> None:
        blocks.append(x)
        targets.append(rows_labels)
        weights.append(np.broadcast_to(weight, len(rows_labels)).astype(float))
        extra[source] = pd.Series(rows_labels).value_counts().to_dict() if len(rows_labels) else {}

    uses_pool = settings.weak_weight > 0 or settings.self_weight > 0 or settings.teacher_weight > 0
    x_pool = features.transform(text_frame(pool)) if pool and uses_pool else None
    # The cue model and the vector model are fitted on labeled (and demo) rows: the fitted model has the same
    # parts whether or not pool texts are left to teach, so what cross-validation measured is what is registered.
    cues = settings.teacher_weight > 0 and bool(settings.teacher_genres)
    teaching = cues and x_pool is not None
    pool_votes = apply_lfs(pool) if x_pool is not None and (settings.weak_weight > 0 or teaching) else None
    if x_pool is not None and settings.weak_weight > 0:
        label_model = LabelModel().fit(votes, y)
        weak, confidence = label_model.predict(pool_votes)
        rows = top_per_class(weak, confidence, settings.weak_threshold, settings.weak_per_class)
        add("weak", x_pool[rows], weak[rows], settings.weak_weight)
    if x_pool is not None and settings.self_weight > 0:
        teacher = clone(clf).fit(x_labeled, y)
        proba = teacher.predict_proba(x_pool)
        pseudo = teacher.classes_[proba.argmax(axis=1)].astype(object)
        rows = top_per_class(pseudo, proba.max(axis=1), settings.self_threshold, settings.self_per_class)
        add("self", x_pool[rows], pseudo[rows], settings.self_weight)
    demo_block: tuple[sp.spmatrix, np.ndarray, np.ndarray, list[str]] | None = None
    if demo is not None and settings.demo_weight > 0:
        demo_texts = demo[TEXT_COLUMN].tolist()
        demo_block = (
            features.transform(demo[[TEXT_COLUMN]]),
            demo["label"].to_numpy(dtype=object),
            demo_weights(demo_texts, settings),
            demo_texts,
        )
        add("demo", *demo_block[:3])
    if secondary is not None and settings.secondary_weight > 0:
        second = np.asarray(secondary, dtype=object)
        rows = np.flatnonzero((second != "") & (second != y))
        add("secondary", x_labeled[rows], second[rows], settings.secondary_weight)

    clf.fit(sp.vstack(blocks).tocsr(), np.concatenate(targets), sample_weight=np.concatenate(weights))
    if cues:
        scale = settings.teacher_lf_scale
        lf_x, lf_y, lf_w = [_with_lfs(x_labeled, votes, scale)], [y], [np.ones(len(y))]
        if demo_block is not None:
            lf_x.append(_with_lfs(demo_block[0], apply_lfs(demo_block[3]), scale))
            lf_y.append(demo_block[1])
            lf_w.append(demo_block[2])
        lf_model = clone(clf).fit(sp.vstack(lf_x).tocsr(), np.concatenate(lf_y), sample_weight=np.concatenate(lf_w))
        genres = np.array([genre_of(text) for text in clean_texts(pool)]) if teaching else np.array([])
        rows = np.flatnonzero(np.isin(genres, settings.teacher_genres))
        if len(rows):  # an export of reviews or complaints alone has nothing for the teacher
            classes = np.union1d(clf.classes_, lf_model.classes_)
            x_rows = x_pool[rows]
            proba = mean_proba([(clf, x_rows), (lf_model, _with_lfs(x_rows, pool_votes[rows], scale))], classes)
            add("teacher", x_rows, classes[proba.argmax(axis=1)].astype(object), settings.teacher_weight)
            clf.fit(sp.vstack(blocks).tocsr(), np.concatenate(targets), sample_weight=np.concatenate(weights))
        vectors = None
        if settings.vector_weight > 0:
            corpus = texts + pool + (demo_block[3] if demo_block is not None else [])
            vectors = _vector_model(clf, texts, y, corpus, settings)
        _route(model, lf_model, x_labeled.shape[1], settings, vectors)
    members = (("cues",) + (("vectors",) if vectors else ())) if cues else ()
    log.info("few-label fit: %d labeled cases, %d pool texts, extra rows %s", len(texts), len(pool), extra)
    return FewLabelFit(model, extra, pool_texts=len(pool), members=members)


def fit_for_training(train_set: pd.DataFrame, unlabeled: Unlabeled, params: dict[str, Any], data: Path) -> FewLabelFit:
    """The few-label fit of a training run: the unlabeled texts plus the demo corpus unless it is the labeled
    data itself, keeping the labeling functions' table and what was read for the run."""
    texts = list(unlabeled.texts)
    demo = None
    if FewLabelSettings.from_params(params).demo_weight > 0 and Path(data).resolve() != DEMO_FILE.resolve():
        demo = load_demo()
    secondary = train_set.get("secondary")
    fit = fit_few_label(train_set["text"], train_set["label"], texts, params, demo=demo, secondary=secondary)
    fit.lf_table = lf_table(apply_lfs(train_set["text"].tolist()), train_set["label"])
    fit.sources, fit.unlabeled_texts = unlabeled.sources, len(texts)
    return fit


def few_label_params(fit: FewLabelFit) -> dict[str, object]:
    """The run parameters that say what the few-label fit read (part of what a run compares with the champion's)."""
    return {
        "fewlabel.unlabeled": ";".join(fit.sources)[:500],
        "fewlabel.unlabeled_texts": fit.unlabeled_texts,
        "fewlabel.pool_texts": fit.pool_texts,
        "fewlabel.members": ",".join(fit.members) or "none",
    }


def log_few_label(fit: FewLabelFit) -> None:
    """Log to the active MLflow run what the few-label fit made: extra rows and the LF table."""
    mlflow.log_dict(json.loads(json.dumps(fit.extra_rows, default=int)), EXTRA_ROWS_ARTIFACT)
    if fit.lf_table is not None:
        mlflow.log_table(fit.lf_table, LF_TABLE_ARTIFACT)
