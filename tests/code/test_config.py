from pathlib import Path

import pytest

from pipelines.config import PARAMS_FILE, PARTY_CODES, ZH_NAMES, load_params, real_data_dir


def test_shipped_params_have_every_section():
    params = load_params()
    assert params["split"]["test_size"] < 0.5
    assert 0 < params["review"]["target_precision"] <= 1
    assert params["features"]["word_ngram"][0] >= 1


def test_missing_section_is_an_error(tmp_path: Path):
    broken = tmp_path / "params.toml"
    broken.write_text(PARAMS_FILE.read_text(encoding="utf-8").replace("[review]", "[reviews]"), encoding="utf-8")
    with pytest.raises(KeyError, match="review"):
        load_params(broken)


def test_every_party_has_a_chinese_name():
    assert set(PARTY_CODES) <= set(ZH_NAMES)
    assert ZH_NAMES["logistics"] == "物流"


def test_real_data_dir_prefers_explicit_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LIABILITY_REAL_DATA", str(tmp_path / "env"))
    assert real_data_dir() == (tmp_path / "env").resolve()
    assert real_data_dir(tmp_path / "cli") == (tmp_path / "cli").resolve()
    monkeypatch.delenv("LIABILITY_REAL_DATA")
    assert real_data_dir().parts[-2:] == ("shared", "data")
