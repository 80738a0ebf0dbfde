"""Settings files from older versions: a default that changed reaches people who never chose it."""

import json

from tagger.excerpt import Depth
from tagger.settings import SETTINGS_VERSION, Settings


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
