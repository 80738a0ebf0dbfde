"""`learn`, `--model` and `--by-album` from the command line, on generated audio with
three sounds that the models tell apart: a low drone, a high chime and noise bursts."""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC
from support.audio import tone

from tagger import cli
from tagger.learning.learned import LearnedModel, default_model_path
from tagger.library.collection import learn
from tagger.tags import read_tags

RATE = 22050
SOUNDS = ("Drone", "Chime", "Noise")
TAGGED_PER_SOUND = 4  # of 6: files 4 and 5 of each sound are left untagged
MIN_FILES = ("--min-files", str(TAGGED_PER_SOUND))


def sound(kind: str, i: int) -> np.ndarray:
    if kind == "Drone":
        return tone(8.0, RATE, 1, freq=55.0 * (1 + 0.05 * i))
    if kind == "Chime":
        return tone(8.0, RATE, 1, freq=1760.0 * (1 + 0.05 * i))
    t = np.arange(8 * RATE) / RATE
    bursts = np.random.default_rng(i).standard_normal(len(t)) * 0.3 * (np.sin(2 * np.pi * (2 + 0.3 * i) * t) > 0)
    return bursts[:, None].astype(np.float32)


def make_library(root: Path) -> Path:
    """Six files per sound; files 0-3 carry the sound's name as genre. Albums of two:
    file i is on album i % 3 of its sound, so the untagged files 4 and 5 share an
    album with the tagged files 1 and 2."""
    for kind in SOUNDS:
        for i in range(6):
            path = root / kind / f"{i}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, sound(kind, i), RATE)
            tags = FLAC(path)
            tags["album"] = [f"{kind} {i % 3}"]
            tags["artist"] = ["Generator"]
            if i < TAGGED_PER_SOUND:
                tags["genre"] = [kind]
            tags.save()
    return root


@pytest.fixture(scope="module")
def learned(tmp_path_factory, analyzer):
    """The library and a model learned from it, made once for the module."""
    library = make_library(tmp_path_factory.mktemp("library"))
    model_file = tmp_path_factory.mktemp("model") / "model.npz"
    learn([library], analyzer, min_files=TAGGED_PER_SOUND).model.save(model_file)
    return library, model_file


@pytest.fixture
def library(learned, tmp_path):
    """A private copy of the library, with the learned model installed for this test."""
    source, model_file = learned
    copy = shutil.copytree(source, tmp_path / "music")
    default_model_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(model_file, default_model_path())
    return copy


def run(capsys, *args):
    code = cli.main([*args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def records(out):
    return [json.loads(line) for line in out.splitlines()]


def test_learn_reports_and_stores_the_model(capsys, learned, tmp_path):
    source, _ = learned
    music = shutil.copytree(source, tmp_path / "music")
    code, out, err = run(capsys, "learn", str(music), "--json", "--device", "cpu", *MIN_FILES)
    assert code == 0, err
    (report,) = records(out)
    assert sorted(report["genres"]) == sorted(SOUNDS)
    assert report["scanned"] == 18 and report["tagged"] == 12
    assert report["report"]["files"] == 12 and report["report"]["top1"] >= 0.9
    assert {g["genre"]: g["files"] for g in report["report"]["genres"]} == dict.fromkeys(SOUNDS, 4)
    assert Path(report["model"]) == default_model_path() and default_model_path().is_file()

    code, out, _ = run(capsys, "learn", str(music), "--device", "cpu", *MIN_FILES)
    assert code == 0
    assert "learned 3 genres from 12 tagged files" in out and "cross-validation by album" in out
    assert "expected calibration error" in out


def test_suggestions_come_in_the_library_own_words(capsys, library):
    untagged = [str(library / kind / f"{i}.flac") for kind in SOUNDS for i in (4, 5)]
    code, out, _ = run(capsys, "suggest", *untagged, "--json", "--device", "cpu", "--evidence", "audio")
    assert code == 0
    for record in records(out):
        expected = Path(record["path"]).parent.name
        assert record["model"] == "learned" and "audio_genres" not in record
        assert record["genres"][0]["genre"] == expected and record["genres"][0]["source"] == "learned"
        assert record["genres"][0]["confidence"] > 0.5

    code, out, _ = run(capsys, "suggest", untagged[0], "--json", "--device", "cpu", "--model", "base",
                       "--evidence", "audio")
    (record,) = records(out)
    assert record["model"] == "base" and {g["source"] for g in record["genres"]} == {"base"}
    assert record["genres"][0]["genre"] not in SOUNDS


def test_the_bundled_vocabulary_with_album_evidence_offers_the_album_mates_genre(capsys, library):
    """One untagged file named alone: its folder's tagged files are its album, and their
    genre, which the bundled vocabulary does not have, leads on the album's word."""
    untagged = library / SOUNDS[0] / "4.flac"
    code, out, _ = run(capsys, "suggest", str(untagged), "--json", "--device", "cpu", "--model", "base")
    assert code == 0
    (record,) = records(out)
    top = record["genres"][0]
    assert top["genre"] == SOUNDS[0] and top["source"] == "album" and "album" in top["evidence"]
    assert top["confidence"] > 0.5
    assert record["audio_genres"][0]["source"] == "base"
    code, out, _ = run(capsys, "suggest", str(untagged), "--device", "cpu", "--model", "base")
    assert code == 0 and f"{SOUNDS[0]} " in out.splitlines()[1] and "(album)" in out.splitlines()[1]


@pytest.mark.parametrize("tagging, message", [
    ({"Drone": "Ambient", "Chime": "Ambient", "Noise": "Ambient"}, "at least two genres"),
    ({}, "none of these files carries a genre"),
])
def test_nothing_to_learn_exits_1_with_the_reason(capsys, tmp_path, tagging, message, monkeypatch):
    # The tags alone show there is nothing to learn: no file is analysed to find out.
    monkeypatch.setattr("tagger.library.collection.AnalysisPipeline.results",
                        lambda *a, **k: pytest.fail("analysed before saying there is nothing to learn"))
    for kind in SOUNDS:
        for i in range(4):
            path = tmp_path / kind / f"{i}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, sound(kind, i), RATE)
            if kind in tagging:
                tags = FLAC(path)
                tags["genre"] = [tagging[kind]]
                tags.save()
    code, out, err = run(capsys, "learn", str(tmp_path), "--device", "cpu", *MIN_FILES)
    assert code == 1 and out == ""
    assert message in err and "Traceback" not in err
    assert not default_model_path().exists()


def test_learning_analyses_only_what_the_cache_lacks(capsys, library):
    # Half the library analysed (and cached) before, the rest analysed by learn itself.
    code, out, _ = run(capsys, "suggest", str(library / "Drone"), str(library / "Chime" / "0.flac"), "--json",
                       "--device", "cpu")
    assert code == 0 and len(records(out)) == 7
    before = cache_entries()
    code, out, err = run(capsys, "learn", str(library), "--json", "--device", "cpu", *MIN_FILES)
    assert code == 0, err
    (report,) = records(out)
    assert report["report"]["files"] == 12 and report["problems"] == []
    after = cache_entries()
    assert len(before) == 7 and all(after[path] == created for path, created in before.items())  # not redone
    assert len(after) == 7 + 12 - 5  # the tagged files not cached before (4 Chime minus file 0, 4 Noise)


def cache_entries() -> dict[bytes, float]:
    import sqlite3

    from tagger.analysis.cache import default_path

    with sqlite3.connect(default_path()) as db:
        return dict(db.execute("SELECT path, created FROM analyses"))


def test_a_model_for_other_analysis_models_is_refused_and_learned_again_from_its_folders(capsys, library):
    stale = LearnedModel.load()
    stale = dataclasses.replace(stale, models_key="MSD_musicnn 0.0|MTT_musicnn 0.0", roots=[str(library)])
    stale.save()
    code, out, err = run(capsys, "suggest", str(library / "Drone" / "4.flac"), "--json", "--device", "cpu")
    (record,) = records(out)
    assert code == 0 and record["model"] == "base"
    assert "other analysis models" in err and "learn again from the same folders" in err

    code, out, err = run(capsys, "learn", "--json", "--device", "cpu", *MIN_FILES)
    assert code == 0, err
    assert f"learning again from {library}" in err
    (report,) = records(out)
    assert report["report"]["files"] == 12
    assert LearnedModel.load().models_key != stale.models_key and LearnedModel.load().roots == [str(library)]


def test_a_model_from_an_older_genre_tagger_is_refused_and_learned_again_from_its_folders(capsys, library):
    """A model of format 1 (one classifier for every library) cannot be read as today's,
    but it still says where it learned: a plain `learn` goes back there."""
    model = dataclasses.replace(LearnedModel.load(), roots=[str(library)])
    model.save()
    with np.load(default_model_path()) as stored:
        arrays = dict(stored)
    meta = json.loads(arrays["meta"].tobytes())
    meta["format"] = 1
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(default_model_path(), "wb") as f:
        np.savez(f, **arrays)
    code, out, err = run(capsys, "suggest", str(library / "Drone" / "4.flac"), "--json", "--device", "cpu")
    assert code == 0 and records(out)[0]["model"] == "base"
    assert "made by another version of Genre Tagger; run `genre-tagger learn` again" in err
    code, out, err = run(capsys, "learn", "--json", "--device", "cpu", *MIN_FILES)
    assert code == 0 and f"learning again from {library}" in err
    assert LearnedModel.load().roots == [str(library)]


def test_forget_and_insisting_on_a_missing_model(capsys, library):
    code, out, _ = run(capsys, "learn", "--forget")
    assert code == 0 and "removed the learned model" in out and not default_model_path().exists()
    code, out, _ = run(capsys, "learn", "--forget")
    assert code == 0 and "nothing was learned" in out
    code, out, err = run(capsys, "suggest", str(library), "--model", "learned", "--device", "cpu")
    assert code == 2 and out == "" and "no learned model yet" in err
    code, out, err = run(capsys, "learn")
    assert code == 2 and "give at least one PATH" in err


def test_a_damaged_model_is_named_and_the_base_model_answers(capsys, library):
    default_model_path().write_bytes(b"PK\x03\x04 this is not a model")
    target = str(library / "Drone" / "4.flac")
    code, out, err = run(capsys, "suggest", target, "--json", "--device", "cpu")
    assert code == 0
    (record,) = records(out)
    assert record["model"] == "base"
    assert "damaged" in err and "genre-tagger learn" in err and "Traceback" not in err
    # 'library', the option's earlier name, still insists on the learned model.
    code, _, err = run(capsys, "suggest", target, "--model", "library", "--device", "cpu")
    assert code == 2 and "damaged" in err


def test_suggest_by_album_prints_each_album_with_its_tracks(capsys, library):
    code, out, _ = run(capsys, "suggest", str(library / "Chime"), "--by-album", "--json", "--device", "cpu")
    assert code == 0
    albums = records(out)
    assert sorted(a["album"] for a in albums) == ["Generator – Chime 0", "Generator – Chime 1", "Generator – Chime 2"]
    second = next(a for a in albums if a["album"].endswith("Chime 1"))
    assert [Path(t["path"]).name for t in second["tracks"]] == ["1.flac", "4.flac"]
    assert second["genres"][0]["genre"] == "Chime"
    newcomer = second["tracks"][1]
    assert newcomer["current_genres"] == [] and newcomer["genres"][0]["genre"] == "Chime"
    assert newcomer["album_pull"] > 0.5 and newcomer["own_genres"][0]["genre"] == "Chime"
    assert second["votes"][newcomer["path"]]["Chime"] > 0.5

    code, out, _ = run(capsys, "suggest", str(library / "Chime"), "--by-album", "--device", "cpu")
    assert code == 0
    assert out.count("track(s))") == 3 and "album: Chime" in out


def test_apply_by_album_writes_the_album_genres_as_one_undoable_batch(capsys, library):
    newcomer = library / "Noise" / "5.flac"
    code, out, err = run(capsys, "apply", str(library / "Noise"), "--by-album", "--json", "--device", "cpu")
    assert code == 0, err
    results = {Path(r["path"]).name: r for r in records(out)}
    assert results["5.flac"]["status"] == "written" and results["5.flac"]["new_genres"] == ["Noise"]
    # Its album agrees with the tag it has; only the provenance note is new.
    assert results["2.flac"]["old_genres"] == results["2.flac"]["new_genres"] == ["Noise"]
    assert FLAC(newcomer)["genre"] == ["Noise"]
    provenance = json.loads(read_tags(newcomer).provenance)
    assert provenance["learned"] is True and provenance["confidences"]["Noise"] > 0.5
    batches = {r.get("batch") for r in records(out) if r["status"] == "written"}
    assert len(batches) == 1

    code, _, err = run(capsys, "undo")
    assert code == 0 and "undoing batch" in err
    assert "genre" not in FLAC(newcomer)


def test_apply_writes_what_the_album_mates_say_per_file_and_the_audio_alone_when_asked(capsys, library):
    """Plain `apply`, not --by-album: the bundled vocabulary cannot name Drone, but the
    file's album mates can, and their word is written, with the context in the provenance."""
    newcomer = library / "Drone" / "4.flac"
    code, out, err = run(capsys, "apply", str(newcomer), "--json", "--device", "cpu", "--model", "base",
                         "--evidence", "audio", "--dry-run")
    assert code == 0, err
    (record,) = records(out)
    assert "Drone" not in record.get("new_genres", [])
    code, out, err = run(capsys, "apply", str(newcomer), "--json", "--device", "cpu", "--model", "base")
    assert code == 0, err
    (record,) = records(out)
    assert record["status"] == "written" and record["new_genres"][0] == "Drone"
    provenance = json.loads(read_tags(newcomer).provenance)
    assert "album" in provenance["context"] and provenance["confidences"]["Drone"] > 0.5
