"""The real-data folder is read the way its gold texts were rendered, so pool and gold texts match exactly."""

from pathlib import Path

import pytest

from pipelines.realdata import GENRES, load_gold, load_pool
from pipelines.weak import genre_of

pytestmark = pytest.mark.real


def test_every_gold_text_is_found_in_the_pool(real_dir: Path):
    gold, pool = load_gold(real_dir), load_pool(real_dir)
    assert set(pool["genre"]) == set(GENRES)
    assert gold["text"].isin(set(pool["text"])).all()


def test_genre_rule_matches_the_gold_genres(real_dir: Path):
    gold = load_gold(real_dir)
    assert (gold["text"].map(genre_of) == gold["genre"]).mean() > 0.97
