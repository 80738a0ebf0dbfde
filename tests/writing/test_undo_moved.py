"""A batch can be undone after the folder that holds its files was renamed."""

from __future__ import annotations

import json
import shutil

from support.library import make_library

from tagger import cli
from tagger.tags import read_tags


def test_undo_from_a_renamed_folder(tmp_path, capsys):
    old = tmp_path / "Old name"
    (old / "disc 2").mkdir(parents=True)
    paths = make_library(old, 2) + make_library(old / "disc 2", 1)
    assert cli.main(["set", "--json", "--genre", "Moved", *map(str, paths)]) == 0
    batch = json.loads(capsys.readouterr().out.splitlines()[0])["batch"]
    new = tmp_path / "New name"
    old.rename(new)
    # Told where the files were and what to do, instead of an error per file.
    assert cli.main(["undo"]) == 2
    err = capsys.readouterr().err
    assert f"none of batch {batch}'s 3 written file(s) is in {old}" in err
    assert f"genre-tagger undo {batch} --root NEW_FOLDER" in err
    # A file replaced at the new place is not the one the batch wrote: it is left alone.
    replaced = new / "disc 2" / paths[2].name
    shutil.copyfile(replaced, tmp_path / "copy")
    shutil.move(tmp_path / "copy", replaced)
    assert cli.main(["undo", str(batch), "--root", str(new), "--json"]) == 1
    results = {r["path"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert results[str(replaced)]["status"] == "error"
    for path in paths[:2]:
        moved = new / path.name
        assert results[str(moved)]["status"] == "written"
        assert read_tags(moved).genres == ["Original"]
    assert read_tags(replaced).genres == ["Moved"]
