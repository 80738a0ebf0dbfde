"""Settings files from older versions: a default that changed reaches people who never chose it."""

import json

import pytest

from tagger.audio.excerpt import Depth
from tagger.settings import SETTINGS_VERSION, EvidenceChoice, Settings
from tagger.tags import MultiValue, WriteMode, WriteOptions


def test_fast_depth_saved_before_the_adaptive_depth_existed_becomes_the_new_default(tmp_path):
    path = tmp_path / "settings.json"
    old = {**vars(Settings(depth="fast", max_genres=2))}  # version 1 saved every field, no version
    path.write_text(json.dumps(old))
    loaded = Settings.load(path)
    assert loaded.depth == Depth.ADAPTIVE.value == Settings().depth
    assert loaded.max_genres == 2  # everything else stands
    path.write_text(json.dumps({**old, "depth": "full"}))
    assert Settings.load(path).depth == "full"  # a choice against the old default stands


def test_fast_depth_chosen_now_is_kept(tmp_path):
    path = tmp_path / "settings.json"
    Settings(depth="fast").save(path)
    assert json.loads(path.read_text())["settings_version"] == SETTINGS_VERSION
    assert Settings.load(path).depth == "fast"
    path.write_text(json.dumps({"settings_version": "two", "depth": "fast"}))
    assert Settings.load(path).depth == Settings().depth  # a damaged version counts as old


def test_the_old_default_minimum_of_five_files_becomes_two_and_a_choice_is_kept(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**vars(Settings(learn_min_files=3)), "learn_min_files": 5, "settings_version": 2}))
    assert Settings.load(path).learn_min_files == 2
    path.write_text(json.dumps({**vars(Settings()), "learn_min_files": 4, "settings_version": 2}))
    assert Settings.load(path).learn_min_files == 4
    Settings(learn_min_files=5).save(path)  # chosen under version 3: kept
    assert Settings.load(path).learn_min_files == 5
    assert Settings.load(path).evidence == "context"
    path.write_text(json.dumps({"evidence": "gossip"}))
    assert Settings.load(path).evidence == "context"  # an unknown value is ignored, not fatal


def test_a_word_setting_holds_its_enum_however_it_is_set():
    """The review session asks `settings.evidence is EvidenceChoice.AUDIO`: a plain word set
    later must become the member, and a mistyped one must fail where it is set."""
    settings = Settings()
    settings.evidence = "audio"
    assert settings.evidence is EvidenceChoice.AUDIO
    with pytest.raises(ValueError, match="invalid setting.*write_mode"):
        settings.write_mode = "merg"
    assert settings.write_mode is WriteMode.REPLACE
    assert WriteOptions(mode="merge", multi_value="joined").multi_value is MultiValue.JOINED
    with pytest.raises(ValueError):
        WriteOptions(multi_value="joind")
