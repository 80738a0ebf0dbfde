"""The user's preferences, as JSON in the user config folder (platformdirs).

The desktop app edits them; a damaged or partly unknown file falls back to the
defaults field by field rather than stopping the app.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tagger.analysis.models import Device
from tagger.audio.excerpt import Depth
from tagger.files.atomic import write_file_atomically
from tagger.files.regular import read_state_file
from tagger.files.state import reason, state_errors
from tagger.genres.suggestion import DEFAULT_MAX_GENRES, DEFAULT_MIN_CONFIDENCE
from tagger.learning.learned import DEFAULT_MIN_FILES
from tagger.tags import DEFAULT_SEPARATOR, MultiValue, WriteMode, WriteOptions
from tagger.text import TextEnum

log = logging.getLogger(__name__)

# Written with the settings. Files from before version 2 stored every field, defaults
# included, and offered only fast and full depth: their "fast" was the default, not a
# choice against the adaptive depth that replaced it. Before version 3 the minimum of
# tagged files per learned genre was 5 by default; a stored 5 was that default, not a choice.
# Version 4 calls the separator what it is: it joins genres in every format that joins them.
SETTINGS_VERSION = 4


def default_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("genre-tagger", appauthor=False) / "settings.json"



class EvidenceChoice(TextEnum):
    """What suggestions rest on: the audio with the file's album, artist and folders, or the audio alone."""

    CONTEXT = "context"
    AUDIO = "audio"


# The fields stored as their words: a loaded file gives the words, which become members here.
WORD_FIELDS = {"device": Device, "depth": Depth, "write_mode": WriteMode, "multi_value": MultiValue,
               "evidence": EvidenceChoice}


@dataclass
class Settings:
    """The person's choices, saved between runs: device, depth, thresholds, how genres are written and which
    evidence counts."""

    device: Device = Device.AUTO
    depth: Depth = Depth.ADAPTIVE
    max_genres: int = DEFAULT_MAX_GENRES
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    write_mode: WriteMode = WriteMode.REPLACE
    separator: str = DEFAULT_SEPARATOR
    multi_value: MultiValue = MultiValue.SEPARATE  # how several genres are stored
    provenance: bool = True
    learn_min_files: int = DEFAULT_MIN_FILES  # a genre on fewer tagged files is not learned
    offer_learning: bool = True  # offer to learn once enough of the library is tagged
    evidence: EvidenceChoice = EvidenceChoice.CONTEXT
    window: dict[str, str] = field(default_factory=dict)  # the app's window layout, opaque here

    def __setattr__(self, name: str, value: Any) -> None:
        # A word field holds its enum however it is set, so that a mistyped word fails here
        # rather than comparing unequal wherever it is read.
        kind = WORD_FIELDS.get(name)
        if kind is not None:
            try:
                value = kind(value)
            except ValueError:
                raise ValueError(f"invalid setting(s): {name}") from None
        super().__setattr__(name, value)

    def __post_init__(self) -> None:
        checks = {
            "max_genres": isinstance(self.max_genres, int) and 1 <= self.max_genres <= 10,
            "min_confidence": isinstance(self.min_confidence, (int, float)) and 0.0 <= self.min_confidence <= 1.0,
            "separator": isinstance(self.separator, str) and 0 < len(self.separator) <= 5,
            "provenance": isinstance(self.provenance, bool),
            "learn_min_files": isinstance(self.learn_min_files, int) and 1 <= self.learn_min_files <= 100,
            "offer_learning": isinstance(self.offer_learning, bool),
            "window": isinstance(self.window, dict),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid setting(s): {', '.join(bad)}")

    def write_options(self) -> WriteOptions:
        return WriteOptions(self.write_mode, self.separator, self.multi_value, provenance=self.provenance)

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        try:
            stored = json.loads(read_state_file(path).decode("utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as e:
            log.warning("could not read the settings in %s (%s); using the defaults", path,
                        reason(e, path))
            return cls()
        if not isinstance(stored, dict):
            log.warning("the settings in %s are not a JSON object; using the defaults", path)
            return cls()
        settings = cls()
        version = stored.get("settings_version", 1)
        if (not isinstance(version, int) or version < 2) and stored.get("depth") == Depth.FAST.value:
            stored = {k: v for k, v in stored.items() if k != "depth"}
        if (not isinstance(version, int) or version < 3) and stored.get("learn_min_files") == 5:
            stored = {k: v for k, v in stored.items() if k != "learn_min_files"}
        if "id3v23_separator" in stored and "separator" not in stored:  # its name before version 4
            stored["separator"] = stored.pop("id3v23_separator")
        for f in fields(cls):
            if f.name in stored:
                try:
                    settings = cls(**{**asdict(settings), f.name: stored[f.name]})
                except (TypeError, ValueError):
                    log.warning("ignoring the setting %s=%r in %s", f.name, stored[f.name], path)
        return settings

    def save(self, path: Path | None = None) -> None:
        """StateError, saying why in a sentence, where the config folder cannot take them."""
        path = path or default_path()
        stored = {"settings_version": SETTINGS_VERSION, **asdict(self)}
        with state_errors("the settings", path):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_file_atomically(path, json.dumps(stored, indent=2).encode("utf-8"))
