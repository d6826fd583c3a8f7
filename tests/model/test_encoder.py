"""The word encoder: words that mean the same in a dispute get near vectors, unrelated ones do not."""

import numpy as np

from pipelines.encoder import DIMENSIONS, word_encoder


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_synonyms_are_closer_than_unrelated_words():
    courier, deliverer, fake, genuine_not, lipstick = word_encoder().encode(
        ["快递员", "配送员", "假货", "不是正品", "口红"]
    )
    assert _cos(courier, deliverer) > _cos(courier, lipstick)
    assert _cos(fake, genuine_not) > _cos(fake, lipstick)


def test_vectors_are_remembered_and_returned_in_order():
    encoder = word_encoder()
    first = encoder.encode(["退款", "物流"])
    again = encoder.encode(["物流", "退款", "物流"])
    assert first.shape == (2, DIMENSIONS) and first.dtype == np.float32
    np.testing.assert_array_equal(again, first[[1, 0, 1]])
