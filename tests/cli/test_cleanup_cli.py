"""genres, normalise and rename from the command line, on real generated files; undo of
their batches; and, where ../shared is present, the tag-library corpus."""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import ID3, TCON
from mutagen.mp3 import MP3
from support import tagfiles
from support.paths import REPO, SHARED

from tagger import cli
from tagger.genres.vocabulary import (
    is_junk,
    joined_parts,
    save_user_alias,
    user_aliases_path,
    vocabulary,
)
from tagger.tags import MULTI_VALUE_NOTES, MultiValue, open_tags, read_tags, tags_or_problem
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter

CORPUS = SHARED / "fixtures" / "tagged"


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")], captured


def store(path, values, id3_encoding=1):
    """Put exactly ``values`` in the file's genre field with mutagen, as another tagger would
    (ID3 in UTF-16 as tagfiles does; ID3v2.3 values null-separated if there are several)."""
    audio = mutagen.File(path)
    tags = audio.tags
    if isinstance(tags, ID3):
        version = tags.version[1]
        tags.delall("TCON")
        if values:
            tags.add(TCON(encoding=id3_encoding, text=list(values)))
        if isinstance(audio, MP3):
            tags.save(path, v2_version=version, v1=0, v23_sep=None)
        else:
            audio.save(v2_version=version, v23_sep=None)
        return
    if hasattr(tags, "vendor"):  # Vorbis comments
        if "genre" in tags:
            del tags["genre"]
        for value in values:
            tags.append(("GENRE", value))
    else:
        key = {"MP4Tags": "\xa9gen", "ASFTags": "WM/Genre", "APEv2": "Genre"}[type(tags).__name__]
        if values:
            tags[key] = list(values)
        elif key in tags:
            del tags[key]
    audio.save()


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hashes(folder):
    return {p: sha(p) for p in sorted(Path(folder).rglob("*")) if p.is_file()}


# -- a small library -----------------------------------------------------------------------------


LIBRARY = {
    "flac": ["Hip Hop ", "hip-hop", "Jazz"],
    "mp3-id3v24": ["Hip Hop", "(17)"],
    "mp3-id3v23": ["Rock; Jazz"],
    "m4a-aac": ["Rock/Pop"],
    "wma": ["Other"],
    "opus": [],
}
# What default normalise makes of it: "Hip Hop" is the library's spelling (2 to 1).
NORMALISED = {
    "flac": ["Hip Hop", "Jazz"],
    "mp3-id3v24": ["Hip Hop", "Rock"],
    "m4a-aac": ["Rock", "Pop"],
}


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    paths = {}
    for kind, values in LIBRARY.items():
        paths[kind] = tagfiles.make(folder, kind)
        store(paths[kind], values)
        assert read_tags(paths[kind]).stored_genres == values, kind
    return paths


def broken_file(folder):
    path = Path(folder) / "broken.flac"
    path.write_bytes(b"fLaC" + b"\x00" * 50)
    return path


# -- genres --------------------------------------------------------------------------------------


def test_genres_json(capsys, library):
    folder = library["flac"].parent
    broken = broken_file(folder)
    code, (report,), captured = run(capsys, "genres", folder, "--json")
    assert code == 1  # the broken file could not be read
    assert set(report) == {"files", "storage", "genres", "file_storage", "problems"}
    assert report["files"] == 6
    assert report["storage"] == {"none": 1, "single": 2, "separate": 2, "joined": 1}
    assert report["problems"] == [{"path": str(broken), "error": report["problems"][0]["error"]}]
    assert "parse" in report["problems"][0]["error"]
    assert "1 file(s) could not be read" in captured.err

    genres = report["genres"]
    assert [g["genre"] for g in genres] == ["Rock", "Hip Hop", "Jazz", "Other", "Pop"]  # most files first
    assert all(set(g) == {"genre", "files", "variants", "canonical", "family", "flags", "untidy_files"}
               for g in genres)
    # The files normalise rewrites for each genre: "(17)" and "Rock/Pop", the FLAC's two spellings of Hip Hop.
    # "Rock; Jazz" is how ID3v2.3 holds two genres: no variant.
    assert {g["genre"]: g["untidy_files"] for g in genres} == {"Rock": 2, "Hip Hop": 1, "Jazz": 0, "Other": 0,
                                                               "Pop": 1}
    by_name = {g["genre"]: g for g in genres}
    hip_hop = by_name["Hip Hop"]
    assert hip_hop["files"] == 2  # the FLAC file holds two variants: it counts once
    assert sorted((v["value"], v["files"]) for v in hip_hop["variants"]) == [
        ("Hip Hop", 1), ("Hip Hop ", 1), ("hip-hop", 1)]
    assert (hip_hop["canonical"], hip_hop["family"], hip_hop["flags"]) == ("Hip-Hop", "Hip-Hop", [])
    rock = by_name["Rock"]
    assert rock["files"] == 3 and rock["flags"] == ["joined", "numeric"]
    assert sorted(v["value"] for v in rock["variants"]) == ["(17)", "Rock/Pop", "Rock; Jazz"]
    assert by_name["Jazz"]["files"] == 2 and by_name["Jazz"]["flags"] == []  # "; " is the storage separator
    other = by_name["Other"]
    assert other["flags"] == ["junk"] and other["canonical"] is None
    assert other["family"] in (None, "unknown")  # docs/command-line.md: "its canonical name and family (or unknown)"

    storage = {Path(f["path"]).name: (f["storage"], f["values"]) for f in report["file_storage"]}
    assert storage == {
        "flac.flac": ("separate", LIBRARY["flac"]),
        "mp3-id3v24.mp3": ("separate", LIBRARY["mp3-id3v24"]),
        "mp3-id3v23.mp3": ("joined", LIBRARY["mp3-id3v23"]),
        "m4a-aac.m4a": ("single", LIBRARY["m4a-aac"]),
        "wma.wma": ("single", LIBRARY["wma"]),
        "opus.opus": ("none", []),
    }


def test_genres_plain_output(capsys, library):
    code, _, captured = run(capsys, "genres", library["flac"].parent)
    assert code == 0
    lines = captured.out.splitlines()
    assert lines[0].split() == ["3", "Rock", "(Rock,", "Rock)", "[joined,", "numeric]"]
    assert "'Hip Hop ' (1)" in captured.out and "'hip-hop' (1)" in captured.out
    assert lines[-1].startswith("6 file(s) read, 5 genre(s)")
    assert "1 none, 2 single, 2 separate, 1 joined" in lines[-1]


def test_genres_says_what_players_show_of_separate_values_until_they_are_joined(capsys, library):
    folder = library["flac"].parent
    _, _, captured = run(capsys, "genres", folder)
    note = captured.out.splitlines()[-2]  # before the summary
    assert note.startswith("note: 2 file(s) store several genres one value each.")
    assert MULTI_VALUE_NOTES[MultiValue.SEPARATE] in note and "normalise --multi-value joined" in note
    run(capsys, "normalise", folder, "--multi-value", "joined")
    _, _, captured = run(capsys, "genres", folder)
    assert "separate" not in captured.out.splitlines()[-1] and "note:" not in captured.out


@pytest.mark.parametrize("command", ["set", "apply", "normalise"])
def test_choosing_the_storage_on_the_command_line_says_what_players_show(capsys, command):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # as argparse wraps it
    assert all(note in help_text for note in MULTI_VALUE_NOTES.values())


def test_genres_writes_nothing(capsys, library):
    before = hashes(library["flac"].parent)
    run(capsys, "genres", library["flac"].parent, "--json")
    assert hashes(library["flac"].parent) == before


# -- normalise -----------------------------------------------------------------------------------


def test_normalise_dry_run_prints_a_plan_per_file_and_writes_nothing(capsys, library):
    folder = library["flac"].parent
    before = hashes(folder)
    code, _, captured = run(capsys, "normalise", folder, "--dry-run")
    assert code == 0
    assert hashes(folder) == before
    out = captured.out
    for kind, new in NORMALISED.items():
        old = ", ".join(LIBRARY[kind])
        assert f"planned   {library[kind]}\n          {old} -> {', '.join(new)}" in out, kind
    for kind in LIBRARY.keys() - NORMALISED.keys():
        assert f"unchanged {library[kind]}" in out, kind
    assert "3 planned" in captured.err and "3 unchanged" in captured.err
    _, _, captured = run(capsys, "history")
    assert "journal is empty" in captured.out


def test_normalise_json_gives_a_result_per_file_and_undo_restores_them(capsys, library):
    folder = library["flac"].parent
    code, records, _ = run(capsys, "normalise", folder, "--json")
    assert code == 0
    by_kind = {kind: next(r for r in records if r["path"] == str(path)) for kind, path in library.items()}
    assert len(records) == len(LIBRARY)
    for kind, record in by_kind.items():
        assert record["old_genres"] == LIBRARY[kind], kind
        if kind in NORMALISED:
            assert record["status"] == "written" and record["new_genres"] == NORMALISED[kind], kind
            assert read_tags(library[kind]).stored_genres == NORMALISED[kind], kind
        else:
            assert record["status"] == "unchanged" and record["new_genres"] == LIBRARY[kind], kind
            assert "batch" not in record
    assert len({r["batch"] for r in records if "batch" in r}) == 1  # one batch
    assert read_tags(library["flac"]).provenance is None  # cleanup adds no provenance note

    code, batches, _ = run(capsys, "history", "--json")
    assert [b["files"] for b in batches] == [{"written": 3}]
    assert batches[0]["command"].startswith("normalise ")
    code, records, _ = run(capsys, "undo", "--json")
    assert code == 0 and {r["status"] for r in records} == {"written"} and len(records) == 3
    assert {kind: read_tags(p).stored_genres for kind, p in library.items()} == LIBRARY


def test_normalise_twice_changes_nothing_the_second_time(capsys, library):
    folder = library["flac"].parent
    run(capsys, "normalise", folder)
    before = hashes(folder)
    code, records, _ = run(capsys, "normalise", folder, "--json")
    assert code == 0 and {r["status"] for r in records} == {"unchanged"}
    assert hashes(folder) == before


def test_normalise_options(capsys, library):
    folder = library["flac"].parent
    code, records, _ = run(capsys, "normalize", folder, "--json", "--to", "canonical", "--drop-junk",
                           "--multi-value", "joined")
    assert code == 0
    stored = {kind: read_tags(p).stored_genres for kind, p in library.items()}
    assert stored == {"flac": ["Hip-Hop; Jazz"], "mp3-id3v24": ["Hip-Hop; Rock"], "mp3-id3v23": ["Rock; Jazz"],
                      "m4a-aac": ["Rock; Pop"], "wma": [], "opus": []}
    run(capsys, "undo")
    assert {kind: read_tags(p).stored_genres for kind, p in library.items()} == LIBRARY

    code, records, _ = run(capsys, "normalise", folder, "--json", "--no-split", "--multi-value", "separate")
    by_path = {r["path"]: r for r in records}
    assert by_path[str(library["m4a-aac"])]["status"] == "unchanged"  # Rock/Pop stays whole
    # ID3v2.3 cannot hold separate values: the file already stores what the writer would.
    v23 = by_path[str(library["mp3-id3v23"])]
    assert v23["status"] == "unchanged" and read_tags(library["mp3-id3v23"]).stored_genres == ["Rock; Jazz"]


def test_normalise_with_another_separator(capsys, tmp_path):
    v23 = tagfiles.make(tmp_path, "mp3-id3v23")
    store(v23, ["hip-hop / Rock"], id3_encoding=0)
    flac = tagfiles.make(tmp_path, "flac")
    store(flac, ["Hip Hop", "Jazz / Blues"])
    other = tagfiles.make(tmp_path, "ogg-vorbis")
    store(other, ["Hip Hop"])
    code, _, _ = run(capsys, "normalise", tmp_path, "--json", "--separator", " / ")
    assert code == 0
    assert read_tags(v23).stored_genres == ["Hip Hop / Rock"]  # joined the file's way, with its separator
    assert read_tags(flac).stored_genres == ["Hip Hop", "Jazz / Blues"]


def test_normalise_keep_mtime(capsys, tmp_path):
    path = tagfiles.make(tmp_path, "flac")  # "Rock", "rock ": a change to make
    old = path.stat().st_mtime_ns - 10**9 * 3600
    os.utime(path, ns=(old, old))
    code, records, _ = run(capsys, "normalise", tmp_path, "--keep-mtime", "--json")
    assert code == 0 and records[0]["status"] == "written"
    assert read_tags(path).stored_genres == ["Rock"]
    assert path.stat().st_mtime_ns == old


# -- exit codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["genres"], ["normalise"], ["normalise", "--dry-run"],
                                     ["rename", "Jazz", "Bebop"], ["rename", "Jazz", "Bebop", "--dry-run"]])
def test_a_file_that_cannot_be_read_gives_exit_status_1(capsys, tmp_path, command):
    folder = tmp_path / "library"
    folder.mkdir()
    store(tagfiles.make(folder, "flac"), ["Jazz", "jazz "])
    code, _, _ = run(capsys, *command, folder)
    assert code == 0
    broken = broken_file(folder)
    code, records, captured = run(capsys, *command, folder, "--json")
    assert code == 1
    if command[0] != "genres":
        assert [r["status"] for r in records if r["path"] == str(broken)] == ["error"]
        assert "1 error" in captured.err


@pytest.mark.parametrize("args", [
    ["genres"], ["normalise"], ["rename", "Jazz"], ["rename", "Jazz", "Bebop"],
    ["normalise", "PATH", "--to", "vocabulary"], ["normalise", "PATH", "--multi-value", "both"],
    ["genres", "PATH", "--no-such-option"],
])
def test_usage_errors_give_exit_status_2(capsys, tmp_path, args):
    args = [str(tmp_path) if a == "PATH" else a for a in args]
    with pytest.raises(SystemExit) as raised:
        cli.main(args)
    assert raised.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_exit_statuses_of_the_real_process(tmp_path):
    flac = tagfiles.make(tmp_path, "flac")

    def status(*args):
        return subprocess.run([sys.executable, "-m", "tagger.cli", *map(str, args)], cwd=REPO,
                              capture_output=True, check=False).returncode

    assert status("genres", flac) == 0
    assert status("normalise") == 2
    broken_file(tmp_path)
    assert status("genres", tmp_path) == 1


# -- rename --------------------------------------------------------------------------------------


@pytest.fixture
def shoegaze(tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    files = {"flac": ["Shoegaze", "Dream Pop"], "mp3-id3v24": ["shoe-gaze"], "m4a-aac": ["Jazz"]}
    paths = {}
    for kind, values in files.items():
        paths[kind] = tagfiles.make(folder, kind)
        store(paths[kind], values)
    return paths, files


def test_rename_merges_across_files_in_one_batch_and_remembers_the_alias(capsys, shoegaze):
    paths, before = shoegaze
    folder = paths["flac"].parent
    code, records, _ = run(capsys, "rename", "Shoegaze", "Dream Pop", folder, "--json")
    assert code == 0
    statuses = {Path(r["path"]).name: r["status"] for r in records}
    assert statuses == {"flac.flac": "written", "mp3-id3v24.mp3": "written", "m4a-aac.m4a": "unchanged"}
    assert len({r["batch"] for r in records if "batch" in r}) == 1
    assert read_tags(paths["flac"]).stored_genres == ["Dream Pop"]  # a file with both keeps one
    assert read_tags(paths["mp3-id3v24"]).stored_genres == ["Dream Pop"]
    assert read_tags(paths["m4a-aac"]).stored_genres == ["Jazz"]
    _, batches, _ = run(capsys, "history", "--json")
    assert len(batches) == 1 and batches[0]["command"].startswith("rename Shoegaze -> Dream Pop")

    # The alias lives in the private config folder of this test.
    aliases = user_aliases_path()
    assert aliases.is_relative_to(os.environ["XDG_CONFIG_HOME"])
    assert json.loads(aliases.read_text(encoding="utf-8")) == {"aliases": {"Shoegaze": "Dream Pop"}}

    code, records, _ = run(capsys, "undo", "--json")
    assert code == 0 and len(records) == 2
    assert {kind: read_tags(p).stored_genres for kind, p in paths.items()} == before
    # Undo takes the alias back with the files: Shoegaze is a genre of its own again.
    assert json.loads(aliases.read_text(encoding="utf-8")) == {"aliases": {}}
    code, (report,), _ = run(capsys, "genres", folder, "--json")
    assert {g["genre"] for g in report["genres"]} == {"Shoegaze", "Dream Pop", "Jazz"}

    # Renamed again and kept, the alias groups OLD with NEW, in NEW's spelling, in later runs,
    # even where another tagger brings the old names back.
    assert run(capsys, "rename", "Shoegaze", "Dream Pop", folder)[0] == 0
    for kind, values in before.items():
        store(paths[kind], values)
    code, (report,), _ = run(capsys, "genres", folder, "--json")
    dream_pop = next(g for g in report["genres"] if g["genre"] == "Dream Pop")
    assert dream_pop["files"] == 2
    assert sorted(v["value"] for v in dream_pop["variants"]) == ["Dream Pop", "Shoegaze", "shoe-gaze"]
    assert not any(g["genre"].casefold().replace("-", "") == "shoegaze" for g in report["genres"])
    code, records, _ = run(capsys, "normalise", folder, "--json")
    assert read_tags(paths["flac"]).stored_genres == ["Dream Pop"]
    assert read_tags(paths["mp3-id3v24"]).stored_genres == ["Dream Pop"]


def test_undoing_a_rename_keeps_an_alias_the_person_changed_since_and_restores_the_one_it_replaced(capsys, shoegaze):
    paths, _ = shoegaze
    folder = paths["flac"].parent
    assert run(capsys, "rename", "Dream Pop", "Dreampop Classics", folder)[0] == 0
    # Renaming into Dream Pop drops the alias that sent Dream Pop elsewhere.
    assert run(capsys, "rename", "Shoegaze", "Dream Pop", folder)[0] == 0
    assert json.loads(user_aliases_path().read_text(encoding="utf-8")) == {"aliases": {"Shoegaze": "Dream Pop"}}
    assert run(capsys, "undo")[0] == 0
    assert json.loads(user_aliases_path().read_text(encoding="utf-8")) == {
        "aliases": {"Dream Pop": "Dreampop Classics"}}

    assert run(capsys, "rename", "Shoegaze", "Dream Pop", folder)[0] == 0
    save_user_alias("Shoegaze", "Noise Pop")  # the person points the name elsewhere after the batch
    assert run(capsys, "undo")[0] == 0
    assert json.loads(user_aliases_path().read_text(encoding="utf-8"))["aliases"]["Shoegaze"] == "Noise Pop"


def test_rename_dry_run_writes_nothing_and_saves_no_alias(capsys, shoegaze):
    paths, _ = shoegaze
    folder = paths["flac"].parent
    before = hashes(folder)
    code, records, _ = run(capsys, "rename", "Shoegaze", "Dream Pop", folder, "--dry-run", "--json")
    assert code == 0
    assert sorted(r["status"] for r in records) == ["planned", "planned", "unchanged"]
    assert hashes(folder) == before
    assert not user_aliases_path().exists()
    code, (report,), _ = run(capsys, "genres", folder, "--json")
    assert any(g["genre"] == "Shoegaze" for g in report["genres"])


# -- files that must not be written --------------------------------------------------------------


def test_a_read_only_file_is_an_error_and_the_batch_goes_on(capsys, library):
    folder = library["flac"].parent
    locked = library["mp3-id3v24"]
    locked.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        before = sha(locked)
        code, records, _ = run(capsys, "normalise", folder, "--json")
        assert code == 1
        by_path = {r["path"]: r for r in records}
        assert by_path[str(locked)]["status"] == "error"
        assert "read-only" in by_path[str(locked)]["error"]
        assert sha(locked) == before
        assert by_path[str(library["flac"])]["status"] == "written"
        assert by_path[str(library["m4a-aac"])]["status"] == "written"
        assert read_tags(library["flac"]).stored_genres == NORMALISED["flac"]
    finally:
        locked.chmod(0o644)


def test_a_rename_that_no_file_took_saves_no_alias(capsys, shoegaze):
    paths, before = shoegaze
    for path in paths.values():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        code, records, _ = run(capsys, "rename", "Shoegaze", "Dream Pop", paths["flac"].parent, "--json")
        assert code == 1
        assert sorted(r["status"] for r in records) == ["error", "error", "unchanged"]
        # Nothing holds the new name, and with no write to undo the alias could never be taken back.
        assert not user_aliases_path().exists()
        assert {kind: read_tags(p).stored_genres for kind, p in paths.items()} == before
    finally:
        for path in paths.values():
            path.chmod(0o644)


def test_a_file_changed_after_the_survey_is_refused(capsys, library, monkeypatch):
    import tagger.cli.rewrite

    folder = library["flac"].parent
    target = library["flac"]
    real_survey = tagger.cli.rewrite.survey

    def survey_then_edit(*args, **kwargs):
        yield from real_survey(*args, **kwargs)
        # Another program edits the file after it was read, before the batch writes.
        audio = mutagen.File(target)
        audio.tags.append(("COMMENT", "edited by another program"))
        audio.save()

    monkeypatch.setattr(tagger.cli.rewrite, "survey", survey_then_edit)
    code, records, _ = run(capsys, "normalise", folder, "--json")
    edited = sha(target)
    by_path = {r["path"]: r for r in records}
    assert code == 1
    assert by_path[str(target)]["status"] == "error"
    assert "changed" in by_path[str(target)]["error"]
    assert read_tags(target).stored_genres == LIBRARY["flac"]
    assert sha(target) == edited
    assert by_path[str(library["mp3-id3v24"])]["status"] == "written"


def test_a_file_changed_between_plan_and_write_is_refused_by_the_writer(library, journal):
    from tagger.library.cleanup import CleanupRules, GenreOverview, survey
    from tagger.tags import WriteOptions
    from tagger.writing.writer import GenreWriter, WriteRequest

    folder = library["flac"].parent
    view = GenreOverview()
    files = list(survey([folder]))
    for file in files:
        view.add(file)
    planner = view.planner(CleanupRules())
    plans = [planner.plan(f) for f in files if planner.plan(f).changed]
    assert {p.file.path for p in plans} == {library[k] for k in NORMALISED}
    store(library["m4a-aac"], ["Polka"])  # edited since the survey
    requests = [WriteRequest(p.file.path, list(p.after), provenance=p.file.provenance, identity=p.file.identity)
                for p in plans]
    results = {r.path: r for r in GenreWriter(journal, WriteOptions(exact=True)).write(requests, "test")}
    assert results[library["m4a-aac"]].status == "error"
    assert read_tags(library["m4a-aac"]).stored_genres == ["Polka"]
    assert results[library["flac"]].status == "written"


# -- round trips on every writable format --------------------------------------------------------


MESSY = ["Hip Hop ", "hip-hop", "17", "Jazz, Blues", "Other"]
MESSY_JOINED = ["(17)Hip Hop ; hip-hop; Jazz, Blues; Other"]  # ID3v2.3: one value
ROUND_TRIPS = {  # kind: (values to store, or None to keep tagfiles' own; what --to canonical stores)
    "mp3-id3v24": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "mp3-id3v23": (MESSY_JOINED, ["Rock; Hip-Hop; Jazz; Blues; Other"]),
    "mp3-id3v22": (None, ["Rock"]),  # "(17)" in a hand-made TCO frame
    "mp3-id3v1": (None, ["Rock"]),  # "17" as the ID3v1 genre byte
    "wav": (MESSY_JOINED, ["Rock; Hip-Hop; Jazz; Blues; Other"]),
    "wav-info": (MESSY_JOINED, ["Rock; Hip-Hop; Jazz; Blues; Other"]),
    "aiff": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "flac": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "ogg-vorbis": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "opus": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "m4a-aac": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "m4a-alac": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "wma": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
    "wavpack": (MESSY, ["Hip-Hop", "Rock", "Jazz", "Blues", "Other"]),
}


def test_every_writable_kind_has_a_round_trip():
    assert set(tagfiles.KINDS) - {"mp3-untagged"} == set(ROUND_TRIPS)


def id3_tag(data):
    tag = data if data[:3] == b"ID3" else tagfiles.chunked_id3(data)
    return tag if tag and tag[:3] == b"ID3" else None


def tag_state(path):
    """The genre values as stored, every other tag item raw, and the genre frame's bytes."""
    data = path.read_bytes()
    tag_format, audio = open_tags(path)
    try:
        kept = tag_format.kept_items(str(path))
    except NotImplementedError:  # ID3: raw_tags below holds its frames as stored
        kept = None
    id3 = id3_tag(data)
    tcon_frames = None
    if id3 is not None:
        loaded = type(audio)(str(path), translate=False).tags
        tcon_frames = [(int(f.encoding), list(f.text)) for f in loaded.getall("TCON")]
    return {
        "stored": read_tags(path).stored_genres,
        "kept_items": kept,
        "raw_tags": tagfiles.raw_tags(path),
        "id3v1_block": data[-128:] if data[-128:-125] == b"TAG" and data[-133:-125] != b"APETAGEX" else None,
        "tcon (encoding, text)": tcon_frames,
        "tcon bytes": [f for f in tagfiles.id3_frames_of(id3) if f[0] in ("TCON", "TCO")] if id3 else None,
    }


@pytest.mark.parametrize("kind", list(ROUND_TRIPS))
def test_normalise_and_undo_round_trip(capsys, tmp_path, kind):
    messy, normalised = ROUND_TRIPS[kind]
    path = tagfiles.make(tmp_path, kind)
    if messy is not None:
        store(path, messy)
    before = tag_state(path)
    before_provenance = read_tags(path).provenance

    code, records, captured = run(capsys, "normalise", tmp_path, "--to", "canonical", "--json")
    assert code == 0, captured
    assert [r["status"] for r in records] == ["written"], records
    assert records[0]["old_genres"] == before["stored"]
    assert records[0]["new_genres"] == read_tags(path).stored_genres == normalised
    assert read_tags(path).provenance == before_provenance

    code, records, captured = run(capsys, "undo", "--json")
    assert code == 0 and [r["status"] for r in records] == ["written"], (records, captured.err)
    after = tag_state(path)
    for item in before:  # one by one, so that a failure names what differs
        assert after[item] == before[item], f"{kind}: {item} differs after undo"


@pytest.mark.parametrize("kind", ["mp3-id3v24", "mp3-id3v23", "mp3-id3v1", "wav", "aiff", "flac"])
def test_a_second_round_trip_is_byte_identical(capsys, tmp_path, kind):
    # Once Genre Tagger has written a file (here: the undo of a first normalise), normalise
    # and undo give back the very same bytes, the whole file: what the first round trip
    # changes in the ID3 kinds is only how another tagger had encoded the frame.
    messy, _ = ROUND_TRIPS[kind]
    path = tagfiles.make(tmp_path, kind)
    if messy is not None:
        store(path, messy)
    run(capsys, "normalise", tmp_path, "--to", "canonical")
    run(capsys, "undo")
    before = path.read_bytes()
    code, records, _ = run(capsys, "normalise", tmp_path, "--to", "canonical", "--json")
    assert code == 0 and records[0]["status"] == "written"
    assert run(capsys, "undo")[0] == 0
    assert path.read_bytes() == before


def test_undo_restores_id3v23_values_stored_separately(capsys, tmp_path):
    # An ID3v2.3 TCON frame may hold several null-separated strings (mutagen with v23_sep=None,
    # and other taggers, write it): undo must not join them with the separator, which would
    # change what they read as ("17" would no longer be Rock).
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    store(path, ["Hip Hop ", "hip-hop", "17"], id3_encoding=0)
    before = read_tags(path)
    assert before.stored_genres == ["Hip Hop ", "hip-hop", "17"] and before.genres == ["Hip Hop", "Rock"]
    _, records, _ = run(capsys, "normalise", tmp_path, "--json")
    assert records[0]["status"] == "written"
    assert read_tags(path).stored_genres == ["Hip Hop; Rock"]
    run(capsys, "undo")
    after = read_tags(path)
    assert after.genres == before.genres
    assert after.stored_genres == before.stored_genres


# -- the tag-library corpus in ../shared ---------------------------------------------------------


def corpus_or_skip():
    if not CORPUS.is_dir():
        pytest.skip(f"needs {CORPUS} (the tag-library corpus), which is absent here")
    return CORPUS


def scanned(folder):
    from tagger.files.scan import scan

    return [e.path for e in scan([folder]) if not e.problem]


@pytest.mark.shared
@pytest.mark.corpus
def test_corpus_genres_lists_every_stored_value(capsys):
    corpus = corpus_or_skip()
    code, (report,), _ = run(capsys, "genres", corpus, "--json")
    assert code == 1  # the corpus holds files that cannot be read, on purpose
    stored, problems = {}, set()
    for path in scanned(corpus):
        snapshot, _ = tags_or_problem(path)
        if snapshot is None:
            problems.add(str(path))
        else:
            stored[str(path)] = snapshot.stored_genres
    assert report["files"] == len(stored) > 500
    assert {p["path"] for p in report["problems"]} == problems
    assert {f["path"]: f["values"] for f in report["file_storage"]} == stored
    variants = {v["value"] for g in report["genres"] for v in g["variants"]}
    assert variants == {value for values in stored.values() for value in values}
    # Each value's file count is the number of files that hold it.
    for group in report["genres"]:
        for variant in group["variants"]:
            holders = sum(variant["value"] in values for values in stored.values())
            assert variant["files"] == holders, (group["genre"], variant)
    assert sum(report["storage"].values()) == len(stored)


NUMERIC = re.compile(r"\s*(\((\d+|RX|CR)\))+.*|\s*\d+\s*|RX|CR")


def explained(old, new):
    """Why cleanup may change ``old`` into ``new``, judged here without the code under test;
    an empty set if nothing explains it."""
    from tagger.tags.base import read_genres

    key = vocabulary().key
    reasons = set()
    if any(NUMERIC.fullmatch(v) for v in old):
        reasons.add("numeric code")
    if any(v != " ".join(v.split()) for v in old):
        reasons.add("stray space")
    keys = [key(v) for v in old]
    if len(set(keys)) < len(keys):
        reasons.add("variants in one file")
    if any(n not in old and any(key(n) == k for k in keys) for n in new):
        reasons.add("another spelling of the library")
    for value in old:
        parts = joined_parts(value)
        if len(parts) > 1 and all(any(key(p) == key(n) for n in new) for p in parts):
            reasons.add("known-joined split")
    # Whatever the reason, the file must name the same genres afterwards (aliases folded).
    if {key(g) for g in read_genres(old) if not is_junk(g)} != {key(g) for g in read_genres(new) if not is_junk(g)}:
        return set()
    return reasons


@pytest.mark.shared
@pytest.mark.corpus
def test_corpus_normalise_dry_run_plans_only_real_cleanups_and_writes_nothing(capsys, tmp_path):
    corpus = corpus_or_skip()
    copy = tmp_path / "tagged"
    shutil.copytree(corpus, copy)
    for path in copy.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    before = hashes(copy)
    code, records, captured = run(capsys, "normalise", copy, "--dry-run", "--json")
    assert code == 1  # unreadable files are errors
    assert hashes(copy) == before
    planned = [r for r in records if r["status"] == "planned"]
    assert planned, "the corpus holds numeric codes and variants: something must be planned"
    unexplained = [(r["path"], r["old_genres"], r["new_genres"]) for r in planned
                   if not explained(r["old_genres"], r["new_genres"])]
    assert not unexplained, unexplained
    # The converse for the plainest case: every file holding a numeric code gets a plan.
    unplanned = [r["path"] for r in records if r["status"] == "unchanged"
                 and any(NUMERIC.fullmatch(v) for v in r["old_genres"])]
    assert not unplanned, unplanned
    assert {r["status"] for r in records} <= {"planned", "unchanged", "error"}
    _, _, captured = run(capsys, "history")
    assert "journal is empty" in captured.out


def test_normalise_keeps_the_files_provenance_note(capsys, tmp_path):
    # A file tagged by `apply` carries a provenance note; a cleanup rewrites its genres and leaves the note.
    path = tagfiles.make(tmp_path, "flac")
    store(path, ["Hip Hop "])
    audio = mutagen.File(path)
    audio.tags["GENRE_TAGGER"] = '{"tool":"test"}'
    audio.save()
    assert read_tags(path).provenance == '{"tool":"test"}'
    code, (record,), _ = run(capsys, "normalise", path, "--json")
    assert code == 0 and record["status"] == "written"
    tags = read_tags(path)
    assert tags.stored_genres == ["Hip Hop"] and tags.provenance == '{"tool":"test"}'


def test_finishing_an_interrupted_undo_restores_values_as_stored(capsys, tmp_path):
    # An undo stopped half-way is finished later by `finish`: as an undo, so ID3v2.3 values
    # stored apart are put back apart, not joined as a new write would join them.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tagfiles.make(tmp_path / "a", "mp3-id3v23"), tagfiles.make(tmp_path / "b", "flac")
    store(first, ["Hip Hop ", "hip-hop", "17"], id3_encoding=0)
    store(second, ["(17)"])
    before = read_tags(first).stored_genres
    run(capsys, "normalise", tmp_path)
    assert read_tags(first).stored_genres == ["Hip Hop; Rock"] and read_tags(second).stored_genres == ["Rock"]
    journal = Journal()
    undoing = GenreWriter(journal).undo()
    assert next(undoing).path == second  # an undo goes backwards: the FLAC first
    undoing.close()  # the process stops here; the MP3's entry stays planned
    journal.close()
    code, records, _ = run(capsys, "finish", "--json")
    assert code == 0 and [r["status"] for r in records] == ["written"]
    assert read_tags(first).stored_genres == before


@pytest.mark.parametrize("kind", ["flac", "mp3-id3v24"])
def test_undo_restores_separate_values_a_batch_only_joined(capsys, tmp_path, kind):
    # The batch changed only how the genres are stored: they read the same before and after, so
    # only an undo that compares stored values (not readings) sees there is something to put back.
    path = tagfiles.make(tmp_path, kind)
    store(path, ["Rock", "Pop"])
    run(capsys, "normalise", "--multi-value", "joined", tmp_path)
    assert read_tags(path).stored_genres == ["Rock; Pop"]
    code, records, _ = run(capsys, "undo", "--json")
    assert code == 0 and [r["status"] for r in records] == ["written"]
    assert read_tags(path).stored_genres == ["Rock", "Pop"]


def test_a_renamed_genre_stays_in_its_frames_place_and_a_dropped_one_leaves_no_frame(capsys, tmp_path):
    path = tagfiles.make(tmp_path, "mp3-id3v24")
    store(path, ["Unknown"])
    ids_before = [frame_id for frame_id, _, _ in tagfiles.id3_frames_of(path.read_bytes())]
    assert ids_before[-1] != "TCON"
    run(capsys, "rename", "Unknown", "Misc", tmp_path)
    assert [frame_id for frame_id, _, _ in tagfiles.id3_frames_of(path.read_bytes())] == ids_before
    run(capsys, "normalise", "--drop-junk", tmp_path)
    assert [f for f in ids_before if f != "TCON"] == [i for i, _, _ in tagfiles.id3_frames_of(path.read_bytes())]
    run(capsys, "undo")
    # The frame comes back (after the others: the tag no longer says where it was).
    assert sorted(i for i, _, _ in tagfiles.id3_frames_of(path.read_bytes())) == sorted(ids_before)
    assert read_tags(path).stored_genres == ["Misc"]


def test_undo_restores_the_id3v1_genre_byte_as_it_was(capsys, tmp_path):
    # The ID3v1 byte said "unknown" (255) while the ID3v2 tag said (17): a write sets the byte from
    # the genres (Rock, 17), and the undo must put 255 back rather than derive it again.
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    store(path, ["(17)"], id3_encoding=0)
    v1 = b"TAG" + b"v1 title".ljust(30, b"\0") + b"\0" * 30 * 2 + b"1999" + b"\0" * 30 + bytes([255])
    path.write_bytes(path.read_bytes() + v1)
    before = path.read_bytes()[-128:]
    run(capsys, "normalise", tmp_path)
    assert path.read_bytes()[-1] == 17 and read_tags(path).stored_genres == ["Rock"]
    run(capsys, "undo")
    assert path.read_bytes()[-128:] == before


def test_same_genres_with_a_separator_of_spaces_splits_nothing():
    from tagger.writing.writer import same_genres

    assert same_genres(["Hip Hop"], ["hip-hop"], separator=" ")
    assert not same_genres(["Hip Hop"], ["Hip", "Hop"], separator=" ")
