"""set, apply, history, undo and finish from the command line, on files made in the test."""

import json

import pytest
from support import tagfiles

from tagger import cli
from tagger.tags import read_tags


def run(capsys, *args):
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")], captured


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    return [tagfiles.make(folder, kind) for kind in ("flac", "mp3-id3v23", "m4a-aac")]


def test_set_history_undo_round_trip(capsys, library):
    folder = library[0].parent
    code, records, _ = run(capsys, "set", str(folder), "--genre", "Jazz", "--genre", "Bebop", "--json")
    assert code == 0
    assert {r["status"] for r in records} == {"written"}
    assert all(read_tags(p).genres == ["Jazz", "Bebop"] for p in library)

    code, records, _ = run(capsys, "set", str(library[0]), "--genre", "Blues", "--mode", "merge", "--json")
    assert records[0]["new_genres"] == ["Jazz", "Bebop", "Blues"]

    code, batches, _ = run(capsys, "history", "--json")
    assert [b["files"] for b in batches] == [{"written": 3}, {"written": 1}]

    code, records, _ = run(capsys, "undo", "--json")  # the last batch
    assert code == 0 and records[0]["new_genres"] == ["Jazz", "Bebop"]
    code, records, _ = run(capsys, "undo", "1", "--json")
    assert code == 0 and {r["status"] for r in records} == {"written"}
    assert [read_tags(p).genres for p in library] == [["Rock"], ["Rock"], ["Rock"]]
    assert read_tags(library[0]).provenance is None


def test_undo_skips_files_changed_since(capsys, library):
    run(capsys, "set", *map(str, library), "--genre", "Jazz")
    run(capsys, "set", str(library[1]), "--genre", "Polka", "--no-provenance")  # a later edit
    code, records, _ = run(capsys, "undo", "1", "--json")
    by_path = {r["path"]: r for r in records}
    assert by_path[str(library[1])]["status"] == "skipped"
    assert "changed since" in by_path[str(library[1])]["message"]
    assert read_tags(library[1]).genres == ["Polka"]
    assert read_tags(library[0]).genres == ["Rock"]


def test_dry_run_prints_a_plan_and_writes_nothing(capsys, library):
    code, records, captured = run(capsys, "set", str(library[0]), "--genre", "Jazz", "--dry-run")
    assert code == 0 and "planned" in captured.out and "Rock -> Jazz" in captured.out
    assert read_tags(library[0]).genres == ["Rock"]
    code, batches, captured = run(capsys, "history")
    assert "journal is empty" in captured.out


def test_a_dry_run_plans_exactly_what_the_write_then_does(capsys, library):
    # The same genres but no provenance note yet: the write adds the note, so the plan
    # must say "planned"; after the write, the same command is "unchanged" for both.
    run(capsys, "set", str(library[0]), "--genre", "Jazz", "--no-provenance")
    plans = [run(capsys, "set", str(library[0]), "--genre", "Jazz", "--json", *dry)[1][0]["status"]
             for dry in (["--dry-run"], [])]
    assert plans == ["planned", "written"]
    plans = [run(capsys, "set", str(library[0]), "--genre", "Jazz", "--json", *dry)[1][0]["status"]
             for dry in (["--dry-run"], [])]
    assert plans == ["unchanged", "unchanged"]


def test_apply_writes_confident_suggestions_with_provenance(capsys, library):
    code, records, _ = run(capsys, "apply", *map(str, library), "--min-confidence", "0.0", "--max-genres", "2",
                           "--device", "cpu", "--json")
    assert code == 0
    assert [r["status"] for r in records] == ["written"] * 3
    for path, record in zip(library, records):
        tags = read_tags(path)
        assert tags.genres == record["new_genres"] and len(tags.genres) == 2
        provenance = json.loads(tags.provenance)
        assert set(provenance["confidences"]) == set(tags.genres)
        assert all("musicnn" in m for m in provenance["models"])


def test_apply_writes_exactly_what_it_accepted_as_the_apps_apply_does(capsys, library):
    """apply's writer is the review session's: genres that read the same but are stored
    otherwise (stray spaces here) are rewritten, as the app's Apply rewrites them."""
    from mutagen.flac import FLAC

    arguments = [*map(str, library), "--min-confidence", "0.0", "--max-genres", "2", "--device", "cpu", "--json",
                 "--no-provenance", "--evidence", "audio"]
    code, first, _ = run(capsys, "apply", *arguments)
    assert code == 0
    flac = FLAC(library[0])
    flac["genre"] = [f" {genre} " for genre in first[0]["new_genres"]]
    flac.save()
    assert read_tags(library[0]).genres == first[0]["new_genres"]

    code, second, _ = run(capsys, "apply", *arguments)
    assert code == 0
    assert [r["status"] for r in second] == ["written", "unchanged", "unchanged"]
    assert FLAC(library[0])["genre"] == first[0]["new_genres"]


def test_apply_skips_files_without_a_confident_genre(capsys, library):
    code, records, _ = run(capsys, "apply", str(library[0]), "--min-confidence", "1.0", "--device", "cpu", "--json")
    assert code == 0
    assert records == [{"path": str(library[0]), "status": "skipped", "message": "no genre reaches confidence 1"}]
    assert read_tags(library[0]).genres == ["Rock"]


def test_batch_with_broken_and_missing_files(capsys, library, tmp_path):
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"fLaC" + b"\x00" * 50)
    code, records, _ = run(capsys, "set", str(library[0]), str(broken), str(tmp_path / "gone.ogg"),
                           "--genre", "Jazz", "--json")
    assert code == 1
    statuses = {r["path"]: r["status"] for r in records}
    assert statuses == {str(library[0]): "written", str(broken): "error", str(tmp_path / "gone.ogg"): "error"}


def test_nothing_to_undo_is_a_usage_error(capsys):
    code, _, captured = run(capsys, "undo")
    assert code == 2 and "nothing to undo" in captured.err
