"""The classifier: one scikit-learn Pipeline from a ``text`` column of raw case text to a party.

Cleaning (NFKC, masking) is the pipeline's first step, so the logged model gives the same answer on raw
text in any process; the ``text`` column is selected explicitly because MLflow's pyfunc hands the model
a DataFrame, and a bare vectorizer would iterate its column names instead of its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer, _align_api_if_sparse
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from pipelines.text import clean_texts
from pipelines.tokenize import tokenize

TEXT_COLUMN = "text"


def text_frame(texts: Iterable[str]) -> pd.DataFrame:
    """Texts as the one-column frame the pipeline takes (it selects :data:`TEXT_COLUMN` by name)."""
    return pd.DataFrame({TEXT_COLUMN: list(texts)})


#: The only non-scikit-learn objects a saved model may contain; skops refuses to load anything else.
TRUSTED_TYPES: tuple[str, ...] = (
    "pipelines.text.clean_texts",
    "pipelines.tokenize.tokenize",
    "pipelines.model.FastTfidfVectorizer",
    "pipelines.model.SerialLogisticRegression",
    "pipelines.cues.CueFeatures",
    "pipelines.cues.RoutedClassifier",
    "pipelines.wordvectors.WordVectorFeatures",
)


# --- fast counting -------------------------------------------------------------------------------------

#: Documents counted per batch: bounds the memory of the per-batch numpy arrays (about 80 MB for chars).
BATCH_DOCS = 10_000
#: Fewer documents than this are analyzed in-process: starting workers costs more than it saves.
PARALLEL_MIN_DOCS = 20_000
# A code point + 1 fits in 21 bits, so a character n-gram of up to three characters packs into one uint64
# (0 marks "no character", which keeps 1-, 2- and 3-grams apart).
_CHAR_BITS = 21
_CHAR_MASK = (1 << _CHAR_BITS) - 1
_MAX_PACKED_CHARS = 3


def _pack_char_ngrams(texts: list[str], ngram_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Every character n-gram of each text as (row, uint64 code), computed on the whole batch at once."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    chars = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    chars = chars.astype(np.uint64) + 1
    doc = np.repeat(np.arange(len(texts)), lengths)
    room = np.repeat(np.cumsum(lengths), lengths) - np.arange(len(chars))  # characters left in the text
    rows, codes = [], []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        start = np.flatnonzero(room >= n)
        code = chars[start]
        for k in range(1, n):
            code = (code << np.uint64(_CHAR_BITS)) | chars[start + k]
        rows.append(doc[start])
        codes.append(code)
    return np.concatenate(rows), np.concatenate(codes)


def _pack_strings(grams: list[str]) -> np.ndarray:
    """The uint64 codes of character n-grams given as strings (a vocabulary's keys)."""
    lengths = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
    if lengths.size and (lengths.min() < 1 or lengths.max() > _MAX_PACKED_CHARS):
        raise ValueError("only 1- to 3-character n-grams can be packed")
    chars = np.frombuffer("".join(grams).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    chars = chars.astype(np.uint64) + 1
    starts = np.cumsum(lengths) - lengths
    codes = chars[starts]
    for k in range(1, _MAX_PACKED_CHARS):
        longer = lengths > k
        codes[longer] = (codes[longer] << np.uint64(_CHAR_BITS)) | chars[starts[longer] + k]
    return codes


def _unpack_strings(codes: np.ndarray) -> list[str]:
    """The character n-grams behind uint64 codes (inverse of :func:`_pack_strings`)."""
    fields = np.stack([(codes >> np.uint64(_CHAR_BITS * k)) & np.uint64(_CHAR_MASK) for k in (2, 1, 0)], axis=1)
    fields = fields.astype(np.int64)
    n_chars = (fields > 0).sum(axis=1)
    out = np.zeros((len(codes), _MAX_PACKED_CHARS), dtype=np.uint32)
    for n in range(1, _MAX_PACKED_CHARS + 1):
        rows = n_chars == n
        out[rows, :n] = fields[rows, _MAX_PACKED_CHARS - n :] - 1
    if ((out == 0) & (np.arange(_MAX_PACKED_CHARS) < n_chars[:, None])).any():
        # A NUL character would vanish in numpy's NUL-padded strings; keep exactness with the slow path.
        return ["".join(chr(c) for c in row[:n]) for row, n in zip(out.tolist(), n_chars.tolist(), strict=True)]
    return out.view(f"<U{_MAX_PACKED_CHARS}").ravel().tolist()


#: One batch of analyzed documents: its size, the row and feature id of every occurrence, the features.
Batch = tuple[int, np.ndarray, np.ndarray, np.ndarray]


def _factorized(lengths: np.ndarray, keys: Any) -> Batch:
    """A batch from features per document and all their occurrences in order (strings or packed codes).

    Factorizing first means a batch is described by small integer arrays plus its distinct features, which
    cross process boundaries cheaply and are looked up in the vocabulary once each instead of per occurrence.
    """
    ids, uniques = pd.factorize(keys if isinstance(keys, np.ndarray) else np.asarray(keys, dtype=object))
    return len(lengths), np.repeat(np.arange(len(lengths)), lengths), ids, np.asarray(uniques)


def _word_features(
    tokenizer: Callable[[str], list[str]],
    ngram_range: tuple[int, int],
    stop_words: frozenset[str] | None,
    docs: list[str],
) -> Batch:
    """The word n-grams of a batch of documents, factorized.

    Tokens are factorized once; an n-gram is then its token ids packed into one integer, so only the
    batch's distinct n-grams are ever joined into strings (most occurrences repeat). Top-level and free of
    the vectorizer, so a worker process receives only the tokenizer and the texts.
    """
    doc, room, token_ids, tokens = _token_runs(tokenizer, stop_words, docs)
    rows, ids, names = [], [], []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        start = np.flatnonzero(room >= n)
        gram_ids, gram_names = _ngram_ids(token_ids, tokens, start, n)
        rows.append(doc[start])
        ids.append(gram_ids + sum(map(len, names)))
        names.append(gram_names)
    # Distinct n-grams of different lengths can only read the same if a token holds a space; merge them then.
    merged, features = pd.factorize(np.concatenate(names) if names else np.array([], dtype=object))
    return (
        len(docs),
        np.concatenate(rows) if rows else np.array([], dtype=np.int64),
        merged[np.concatenate(ids)] if ids else np.array([], dtype=np.int64),
        np.asarray(features, dtype=object),
    )


def _token_runs(
    tokenizer: Callable[[str], list[str]], stop_words: frozenset[str] | None, docs: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every token occurrence of a batch: its document, the tokens left in that document from it on, and
    its id into the batch's distinct tokens (returned last)."""
    lengths = np.empty(len(docs), dtype=np.int64)
    flat: list[str] = []
    for i, doc in enumerate(docs):
        tokens = tokenizer(doc)
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        lengths[i] = len(tokens)
        flat += tokens
    token_ids, tokens = pd.factorize(np.asarray(flat, dtype=object))
    doc = np.repeat(np.arange(len(docs)), lengths)
    room = np.repeat(np.cumsum(lengths), lengths) - np.arange(len(flat))
    return doc, room, token_ids, np.asarray(tokens, dtype=object)


@dataclass(frozen=True)
class _WordIndex:
    """A fitted word vocabulary by token ids, so that transforming never joins n-grams into strings.

    Every token of the vocabulary's n-grams gets an id; an n-gram is its token ids packed into one integer,
    looked up in a hash index per length. A key splits into tokens at its spaces: a document whose tokens
    hold no space can only meet a key through exactly that split (the caller checks).
    """

    token_ids: dict[str, int]
    grams: dict[int, tuple[pd.Index, np.ndarray]]  # n → (packed token ids, column), for n-grams of n tokens

    @classmethod
    def build(cls, vocabulary: dict[str, int]) -> _WordIndex | None:
        """None when the packed ids of the longest n-grams would not fit one integer."""
        parts = [key.split(" ") for key in vocabulary]
        token_ids: dict[str, int] = {}
        for tokens in parts:
            for token in tokens:
                token_ids.setdefault(token, len(token_ids))
        base = max(len(token_ids), 1)
        if base ** max(map(len, parts), default=1) >= 2**63:
            return None
        by_length: dict[int, tuple[list[int], list[int]]] = {}
        for tokens, column in zip(parts, vocabulary.values(), strict=True):
            code = 0
            for token in tokens:
                code = code * base + token_ids[token]
            codes, columns = by_length.setdefault(len(tokens), ([], []))
            codes.append(code)
            columns.append(column)
        grams = {
            n: (pd.Index(np.asarray(c, dtype=np.int64)), np.asarray(k, dtype=np.int64))
            for n, (c, k) in by_length.items()
        }
        return cls(token_ids, grams)

    def counts(
        self,
        tokenizer: Callable[[str], list[str]],
        ngram_range: tuple[int, int],
        stop_words: Iterable[str] | None,
        docs: list[str],
        n_features: int,
    ) -> sp.csr_array | None:
        """The document-term counts of ``docs``; None when a token holds a space (the caller falls back)."""
        doc, room, token_ids, tokens = _token_runs(tokenizer, frozenset(stop_words) if stop_words else None, docs)
        if any(" " in token for token in tokens):
            return None
        get = self.token_ids.get
        known = np.fromiter((get(token, -1) for token in tokens), dtype=np.int64, count=len(tokens))[token_ids]
        base = max(len(self.token_ids), 1)
        rows, columns = [], []
        for n in range(ngram_range[0], ngram_range[1] + 1):
            if n not in self.grams:
                continue
            start = np.flatnonzero(room >= n)
            code = known[start]
            valid = code >= 0
            for k in range(1, n):
                part = known[start + k]
                valid &= part >= 0
                code = code * base + part
            index, column_of = self.grams[n]
            found = index.get_indexer(code[valid])
            kept = found >= 0
            rows.append(doc[start[valid][kept]])
            columns.append(column_of[found[kept]])
        empty = np.array([], dtype=np.int64)
        return _count_matrix(len(docs), np.concatenate([empty, *rows]), np.concatenate([empty, *columns]), n_features)


#: Word vocabularies by token ids, keyed like :data:`_CODE_INDEXES`.
_WORD_INDEXES: dict[int, tuple[dict[str, int], _WordIndex | None]] = {}


def _word_index(vocabulary: dict[str, int]) -> _WordIndex | None:
    cached = _WORD_INDEXES.get(id(vocabulary))
    if cached is None or cached[0] is not vocabulary:
        if len(_WORD_INDEXES) >= 8:
            _WORD_INDEXES.clear()
        cached = _WORD_INDEXES[id(vocabulary)] = (vocabulary, _WordIndex.build(vocabulary))
    return cached[1]


def _ngram_ids(token_ids: np.ndarray, tokens: np.ndarray, start: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-grams starting at ``start`` as ids into their distinct strings (tokens joined by spaces)."""
    if n == 1:
        return token_ids[start], tokens
    if len(tokens) ** n >= 2**63:  # ids would not fit one integer: join every occurrence instead
        joined = [" ".join(tokens[token_ids[first + k]] for k in range(n)) for first in start.tolist()]
        ids, uniques = pd.factorize(np.asarray(joined, dtype=object))
        return ids, np.asarray(uniques, dtype=object)
    code = token_ids[start].astype(np.int64)
    for k in range(1, n):
        code = code * len(tokens) + token_ids[start + k]
    ids, distinct = pd.factorize(code)
    parts = []
    for _ in range(n):
        distinct, part = np.divmod(distinct, len(tokens))
        parts.append(tokens[part])
    return ids, np.asarray([" ".join(gram) for gram in zip(*reversed(parts), strict=True)], dtype=object)


def _ngrams(tokens: list[str], ngram_range: tuple[int, int], stop_words: frozenset[str] | None) -> list[str]:
    """scikit-learn's word n-grams (unigrams, then bigrams, ...), built with zip instead of index slicing."""
    if stop_words is not None:
        tokens = [w for w in tokens if w not in stop_words]
    min_n, max_n = ngram_range
    grams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), max_n + 1):
        grams += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
    return grams


#: Hash indexes of fitted character vocabularies' packed codes, keyed by the vocabulary dict's id (the dict
#: is kept alive with it), so that copies of a vectorizer (the scorer makes one per batch) share one index.
_CODE_INDEXES: dict[int, tuple[dict[str, int], pd.Index, np.ndarray]] = {}


def _code_index(vocabulary: dict[str, int]) -> tuple[pd.Index, np.ndarray]:
    """A hash index over the packed codes of a character vocabulary's keys, and their column numbers."""
    cached = _CODE_INDEXES.get(id(vocabulary))
    if cached is None or cached[0] is not vocabulary:
        if len(_CODE_INDEXES) >= 8:
            _CODE_INDEXES.clear()
        index = pd.Index(_pack_strings(list(vocabulary)))
        cached = _CODE_INDEXES[id(vocabulary)] = (vocabulary, index, np.fromiter(vocabulary.values(), dtype=np.int64))
    return cached[1], cached[2]


class FastTfidfVectorizer(TfidfVectorizer):
    """scikit-learn's TfidfVectorizer with the same parameters, vocabulary and output, counted per batch.

    scikit-learn counts features one at a time in a Python loop; here every batch of documents becomes
    arrays of (row, feature key) looked up in one hash index, and character n-grams are packed into
    integers with numpy without ever building their strings. Word documents are tokenized across
    ``n_jobs`` processes for large inputs. Anything outside the fast paths falls back to scikit-learn.
    """

    _parameter_constraints: ClassVar[dict] = {**TfidfVectorizer._parameter_constraints, "n_jobs": [None, Integral]}

    def __init__(
        self,
        *,
        input: str = "content",
        encoding: str = "utf-8",
        decode_error: str = "strict",
        strip_accents: str | None = None,
        lowercase: bool = True,
        preprocessor: Callable | None = None,
        tokenizer: Callable | None = None,
        analyzer: str | Callable = "word",
        stop_words: str | list[str] | None = None,
        token_pattern: str | None = r"(?u)\b\w\w+\b",
        ngram_range: tuple[int, int] = (1, 1),
        max_df: float = 1.0,
        min_df: float = 1,
        max_features: int | None = None,
        vocabulary: Any = None,
        binary: bool = False,
        dtype: type = np.float64,
        norm: str | None = "l2",
        use_idf: bool = True,
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            input=input,
            encoding=encoding,
            decode_error=decode_error,
            strip_accents=strip_accents,
            lowercase=lowercase,
            preprocessor=preprocessor,
            tokenizer=tokenizer,
            analyzer=analyzer,
            stop_words=stop_words,
            token_pattern=token_pattern,
            ngram_range=ngram_range,
            max_df=max_df,
            min_df=min_df,
            max_features=max_features,
            vocabulary=vocabulary,
            binary=binary,
            dtype=dtype,
            norm=norm,
            use_idf=use_idf,
            smooth_idf=smooth_idf,
            sublinear_tf=sublinear_tf,
        )
        self.n_jobs = n_jobs

    def __getstate__(self) -> dict[str, Any]:
        """The state to save, with the vocabulary as one string and two arrays instead of a dict.

        skops writes a dict entry by entry, and scikit-learn leaves numpy integers as the values: saving a
        100,000-case model took longer than training it and loading it several seconds.
        """
        state = dict(super().__getstate__())  # object.__getstate__ hands out the live __dict__ itself
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            state["vocabulary_terms_"] = "".join(vocabulary)
            state["vocabulary_lengths_"] = np.fromiter(map(len, vocabulary), dtype=np.int64, count=len(vocabulary))
            state["vocabulary_columns_"] = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if "vocabulary_terms_" in state:
            terms = state.pop("vocabulary_terms_")
            ends = np.cumsum(state.pop("vocabulary_lengths_")).tolist()
            columns = state.pop("vocabulary_columns_").tolist()
            starts = [0, *ends[:-1]]
            state["vocabulary_"] = {terms[a:b]: c for a, b, c in zip(starts, ends, columns, strict=True)}
        super().__setstate__(state)

    def _word_ngrams(self, tokens: list[str], stop_words: Any = None) -> list[str]:
        """Same n-grams as scikit-learn's, faster; also used by ``build_analyzer`` (the scorer calls it)."""
        return _ngrams(tokens, self.ngram_range, stop_words)

    def _plain_text(self) -> bool:
        """Whether documents reach the analyzer unchanged (no decoding, preprocessing or lower-casing)."""
        return self.input == "content" and self.preprocessor is None and not self.lowercase and not self.strip_accents

    def _packed_chars(self) -> bool:
        lo, hi = self.ngram_range
        return self.analyzer == "char" and self._plain_text() and 1 <= lo <= hi <= _MAX_PACKED_CHARS

    def build_indexes(self) -> None:
        """Build the fitted vocabulary's lookup index that ``transform`` would build on first use."""
        if self._packed_chars():
            _code_index(self.vocabulary_)
        elif self._word_tokens():
            _word_index(self.vocabulary_)

    def _word_tokens(self) -> bool:
        """Whether word documents are tokenized by ``tokenizer`` alone (the fast word paths)."""
        return self.analyzer == "word" and self.tokenizer is not None and self._plain_text()

    def _looked_up(self, docs: list[str]) -> sp.csr_array:
        """Counts against the fitted vocabulary, each batch's distinct n-grams (as strings) looked up once."""
        get = self.vocabulary_.get
        blocks = []
        for n_docs, rows, ids, uniques in self._batches(docs):
            column_of = np.fromiter([get(u, -1) for u in uniques], dtype=np.int64, count=len(uniques))
            found = column_of[ids]
            kept = found >= 0
            blocks.append(_count_matrix(n_docs, rows[kept], found[kept], len(self.vocabulary_)))
        return sp.vstack(blocks, format="csr")

    def _batches(self, docs: list[str]) -> Iterator[Batch]:
        """The documents analyzed and factorized batch by batch; word batches across processes when large."""
        batches = [docs[i : i + BATCH_DOCS] for i in range(0, len(docs), BATCH_DOCS)]
        if self._packed_chars():
            for n_docs, rows, codes in self._char_codes(docs):
                ids, uniques = pd.factorize(codes)
                yield n_docs, rows, ids, uniques
            return
        if self._word_tokens():
            stop = self.get_stop_words()
            job = partial(_word_features, self.tokenizer, self.ngram_range, frozenset(stop) if stop else None)
            if len(docs) >= PARALLEL_MIN_DOCS and effective_n_jobs(self.n_jobs) > 1:
                yield from Parallel(n_jobs=self.n_jobs, return_as="generator")(map(delayed(job), batches))
            else:
                yield from map(job, batches)
            return
        analyze = self.build_analyzer()
        for batch in batches:
            features = [analyze(d) for d in batch]
            lengths = np.fromiter(map(len, features), dtype=np.int64, count=len(features))
            yield _factorized(lengths, [f for doc in features for f in doc])

    def _char_codes(self, docs: list[str]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Per batch of documents: its size and every character n-gram as (row, packed code)."""
        for i in range(0, len(docs), BATCH_DOCS):
            texts = [self._white_spaces.sub(" ", d) for d in docs[i : i + BATCH_DOCS]]  # scikit-learn's preprocessing
            yield len(texts), *_pack_char_ngrams(texts, self.ngram_range)

    def _count_vocab(self, raw_documents: Iterable[Any], fixed_vocab: bool) -> tuple[dict[str, int], Any]:
        """scikit-learn's counting step (vocabulary and document-term counts), one batch of arrays at a time."""
        docs = list(raw_documents)
        if not all(type(d) is str for d in docs):  # bytes, files, NaN: scikit-learn's own checks and messages
            return super()._count_vocab(docs, fixed_vocab)
        packed = self._packed_chars()
        blocks: list[sp.csr_array] = []
        if fixed_vocab and packed:
            # Looking every code up in the vocabulary's hash index is one pass; factorizing first would be two.
            index, columns = _code_index(self.vocabulary_)
            for n_docs, rows, codes in self._char_codes(docs):
                found = index.get_indexer(codes)
                kept = found >= 0
                blocks.append(_count_matrix(n_docs, rows[kept], columns[found[kept]], len(self.vocabulary_)))
            vocabulary = self.vocabulary_
        elif fixed_vocab:
            vocabulary = self.vocabulary_
            index = _word_index(vocabulary) if self._word_tokens() else None
            stop = self.get_stop_words()
            for i in range(0, len(docs), BATCH_DOCS):
                batch = docs[i : i + BATCH_DOCS]
                # Token ids looked up in one vectorized pass; strings only where a token holds a space.
                counts = (
                    None
                    if index is None
                    else index.counts(self.tokenizer, self.ngram_range, stop, batch, len(vocabulary))
                )
                blocks.append(counts if counts is not None else self._looked_up(batch))
        else:
            batches, uniques = [], []
            for n_docs, rows, ids, unique in self._batches(docs):
                batches.append((n_docs, rows, ids))
                uniques.append(unique)
            if not sum(map(len, uniques)):
                raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
            to_global, keys = pd.factorize(np.concatenate(uniques))
            offsets = np.cumsum([0, *map(len, uniques)])
            n_features = len(keys)
            for (n_docs, rows, ids), start in zip(batches, offsets, strict=False):
                blocks.append(_count_matrix(n_docs, rows, to_global[start + ids], n_features))
            grams = _unpack_strings(np.asarray(keys, dtype=np.uint64)) if packed else list(keys)
            vocabulary = dict(zip(grams, range(n_features), strict=True))
        counts = sp.vstack(blocks, format="csr") if blocks else sp.csr_array((0, len(vocabulary)), dtype=self.dtype)
        counts = sp.csr_array(counts, dtype=self.dtype)
        counts.sort_indices()
        return vocabulary, _align_api_if_sparse(counts)


def _count_matrix(n_docs: int, rows: np.ndarray, columns: np.ndarray, n_features: int) -> sp.csr_array:
    """Document-term counts from one (row, column) pair per occurrence; repeated pairs add up.

    Each pair is one integer, ``row * n_features + column``: one numpy sort of those orders the matrix
    and puts repeats side by side, where scipy's conversion sorted every row's columns separately (three
    times slower). The result is canonical: indices sorted, no repeats.
    """
    if not len(rows):
        return sp.csr_array((n_docs, n_features), dtype=np.float32)
    key = rows.astype(np.int64) * n_features + columns
    key.sort()
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.diff(np.r_[first, len(key)]).astype(np.float32)
    row, column = np.divmod(key[first], n_features)
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n_docs))]
    return sp.csr_array((counts, column.astype(np.int32), indptr), shape=(n_docs, n_features))


class SerialLogisticRegression(LogisticRegression):
    """LogisticRegression fitted with one BLAS/OpenMP thread.

    On sparse TF-IDF features lbfgs spends its time in scipy's sparse products; BLAS and OpenMP only see
    small dense arrays, where a second thread adds synchronisation, and on a busy 2-core machine the
    threads spin-wait: fitting 10,000 cases took 8.9 s with two threads and 0.7 s with one.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SerialLogisticRegression:
        with threadpool_limits(limits=1):
            return super().fit(X, y, sample_weight=sample_weight)


def build_pipeline(params: dict[str, Any]) -> Pipeline:
    """Word n-grams over role-aware jieba tokens plus character n-grams, into a class-weighted logistic regression."""
    feats, clf = params["features"], params["classifier"]
    words = FastTfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(feats["word_ngram"]),
        min_df=feats["word_min_df"],
        max_features=feats["word_max_features"],
        sublinear_tf=feats["sublinear_tf"],
        dtype=np.float32,
        n_jobs=feats.get("n_jobs", 1),  # params files written before this key tokenize in-process
    )
    chars = FastTfidfVectorizer(
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
            ("clf", SerialLogisticRegression(C=clf["C"], class_weight=clf["class_weight"], max_iter=clf["max_iter"])),
        ]
    )
