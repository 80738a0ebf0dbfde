"""The Genres panel: the library's genres and variants, and cleanup that goes through review."""

from __future__ import annotations

import json
import re
from pathlib import Path

import mutagen
from mutagen.id3 import ID3, TCON
from support import tagfiles
from support.window import WAIT_MS, tagged_audio, written

from tagger import cli
from tagger.genres.vocabulary import read_user_aliases, user_aliases_path, vocabulary
from tagger.tags import read_tags
from ui.actions import Act
from ui.genres_panel import STORAGE_NAMES
from ui.library import CLEARS_GENRES, Column, item_text
from ui.main_window import MainWindow


def library(qtbot, window: MainWindow, folder: Path, genres: dict[str, list[str]]) -> dict[str, Path]:
    paths = {}
    for name, values in genres.items():
        path = tagged_audio(folder / f"{name}.flac", seconds=1.0)
        audio = mutagen.File(path)
        audio["genre"] = values
        audio.save()
        paths[name] = path
    window.add_paths([folder])
    qtbot.waitUntil(lambda: not window.scans.running and len(window.session.items) == len(paths), timeout=WAIT_MS)
    window.genres_panel.refresh()
    return paths


def rows(panel) -> dict[str, tuple[int, str]]:
    tree = panel.tree
    return {tree.topLevelItem(i).text(0): (int(tree.topLevelItem(i).text(1)), tree.topLevelItem(i).text(2))
            for i in range(tree.topLevelItemCount())}


def select(panel, *names: str) -> None:
    panel.tree.clearSelection()
    for i in range(panel.tree.topLevelItemCount()):
        row = panel.tree.topLevelItem(i)
        row.setSelected(row.text(0) in names)


def stored(path: Path) -> list[str]:
    return list(mutagen.File(path).get("genre", []))


def test_merging_two_genres_is_reviewed_applied_and_undone(qtbot, window, tmp_path):
    paths = library(qtbot, window, tmp_path / "lib", {
        "a": ["Electronica"], "b": ["Electronica"], "c": ["Chiptune", "Jazz"], "d": ["Jazz"]})
    before = {name: stored(path) for name, path in paths.items()}
    panel = window.genres_panel
    assert rows(panel)["Electronica"][0] == 2 and rows(panel)["Jazz"][0] == 2
    marked = []
    panel.confirm = lambda what, changes: marked.append((what, [(i.path.name, g) for i, g in changes])) or True
    panel.ask_name = lambda title, label, start: "Electronic"
    select(panel, "Electronica", "Chiptune")
    assert panel.buttons["Merge…"].isEnabled() and not panel.buttons["Rename…"].isEnabled()
    # Choosing the genres shows their files in the table.
    assert {window.model.item_at(r).path.name for r in range(window.model.rowCount())} == {"a.flac", "b.flac",
                                                                                           "c.flac"}
    panel.buttons["Merge…"].click()
    assert marked[0][1] == [("a.flac", ["Electronic"]), ("b.flac", ["Electronic"]), ("c.flac", ["Electronic", "Jazz"])]
    # Marked for review, not written.
    assert {name: stored(path) for name, path in paths.items()} == before
    assert [window.session.item(paths[n]).proposed for n in "abc"] == [["Electronic"], ["Electronic"],
                                                                      ["Electronic", "Jazz"]]
    assert read_user_aliases(user_aliases_path()) == {}  # nothing sticks before it is written

    window.actions.update_now()
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert [stored(paths[n]) for n in "abcd"] == [["Electronic"], ["Electronic"], ["Electronic", "Jazz"], ["Jazz"]]
    qtbot.waitUntil(lambda: "Electronic" in rows(panel), timeout=WAIT_MS)
    assert rows(panel)["Electronic"][0] == 3 and "Electronica" not in rows(panel)
    # The person's merge sticks: both old names now mean the new one.
    assert read_user_aliases(user_aliases_path()) == {"Electronica": "Electronic", "Chiptune": "Electronic"}
    assert vocabulary().key("Chiptune") == vocabulary().key("Electronic")

    window.confirm = lambda question: True
    window.actions.update_now()
    window.actions[Act.UNDO].trigger()
    written(qtbot, window)
    assert {name: stored(path) for name, path in paths.items()} == before
    # Undo takes the merge back too; written again, it sticks again.
    assert read_user_aliases(user_aliases_path()) == {}
    assert vocabulary().key("Chiptune") != vocabulary().key("Electronic")
    window.session.accept(window.session.item(paths[n]) for n in "abc")
    window.actions.update_now()
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert [stored(paths[n]) for n in "abc"] == [["Electronic"], ["Electronic"], ["Electronic", "Jazz"]]
    assert read_user_aliases(user_aliases_path()) == {"Electronica": "Electronic", "Chiptune": "Electronic"}


def test_a_merge_marked_and_then_edited_away_saves_no_alias(qtbot, window, tmp_path):
    paths = library(qtbot, window, tmp_path / "lib", {"a": ["Electronica"], "b": ["Chiptune"]})
    panel = window.genres_panel
    panel.confirm = lambda what, changes: True
    panel.ask_name = lambda title, label, start: "Electronic"
    select(panel, "Electronica", "Chiptune")
    panel.buttons["Merge…"].click()
    items = [window.session.item(p) for p in paths.values()]
    window.session.edit(items, ["Jazz"])  # the person changes their mind before Apply
    window.actions.update_now()
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert [stored(p) for p in paths.values()] == [["Jazz"], ["Jazz"]]
    assert read_user_aliases(user_aliases_path()) == {}


def test_normalise_all_and_drop_junk_replace_the_files_genres_even_in_merge_mode(qtbot, window, tmp_path):
    paths = library(qtbot, window, tmp_path / "lib", {
        "a": ["Hip Hop"], "b": ["Hip Hop"], "c": ["hip-hop "], "d": ["(17)"], "e": ["Rock", "Other"], "f": ["AC/DC"],
        "g": ["Unknown"]})
    panel = window.genres_panel
    shown = rows(panel)
    assert shown["Hip Hop"] == (3, "variants")
    assert "numeric" in shown["Rock"][1] and "junk" in shown["Other"][1]
    panel.problems_only.setChecked(True)
    assert "AC/DC" not in rows(panel) and "Hip Hop" in rows(panel)
    panel.filter.setText("hip")
    assert list(rows(panel)) == ["Hip Hop"]
    panel.filter.clear()

    plans = []
    panel.confirm = lambda what, changes: plans.append({i.path.name: g for i, g in changes}) or True
    panel.buttons["Normalise All…"].click()
    assert plans[-1] == {"c.flac": ["Hip Hop"], "d.flac": ["Rock"]}
    panel.buttons["Drop Junk"].click()
    # Only what Drop Junk adds: c and d are marked already. "Unknown" was g.flac's only genre: the row's
    # decision is to have none.
    assert plans[-1] == {"e.flac": ["Rock"], "g.flac": []}
    assert [window.session.item(paths[n]).proposed for n in "cd"] == [["Hip Hop"], ["Rock"]]
    assert item_text(window.session.item(paths["g"]), Column.SUGGESTED) == CLEARS_GENRES
    before = {name: stored(path) for name, path in paths.items()}
    # Merging the cleanup's genres into the old ones would keep every old spelling: a cleanup replaces.
    window.mode.setCurrentText("merge")
    window.actions.update_now()
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert stored(paths["c"]) == ["Hip Hop"] and stored(paths["d"]) == ["Rock"] and stored(paths["e"]) == ["Rock"]
    assert stored(paths["g"]) == [] and read_tags(paths["f"]).genres == ["AC/DC"]

    window.confirm = lambda question: True
    window.actions.update_now()
    window.actions[Act.UNDO].trigger()
    written(qtbot, window)
    assert {name: stored(path) for name, path in paths.items()} == before


def test_drop_junk_keeps_a_merge_marked_before_it(qtbot, window, tmp_path):
    paths = library(qtbot, window, tmp_path / "lib", {"a": ["Electronica", "Other"], "b": ["Chiptune"]})
    panel = window.genres_panel
    plans = []
    panel.confirm = lambda what, changes: plans.append({i.path.name: g for i, g in changes}) or True
    panel.ask_name = lambda title, label, start: "Electronic"
    select(panel, "Electronica", "Chiptune")
    panel.buttons["Merge…"].click()
    panel.buttons["Drop Junk"].click()
    assert plans[-1] == {"a.flac": ["Electronic"]}
    assert window.session.item(paths["a"]).proposed == ["Electronic"]


def test_splitting_a_joined_value_the_vocabulary_does_not_know(qtbot, window, tmp_path):
    paths = library(qtbot, window, tmp_path / "lib", {"a": ["Wonky/Zorp"], "b": ["Wonky"]})
    panel = window.genres_panel
    plans = []
    panel.confirm = lambda what, changes: plans.append({i.path.name: g for i, g in changes}) or True
    select(panel, "Wonky/Zorp")
    assert panel.buttons["Split"].isEnabled()
    panel.buttons["Split"].click()
    assert plans == [{"a.flac": ["Wonky", "Zorp"]}]
    assert window.session.item(paths["a"]).proposed == ["Wonky", "Zorp"]


def test_the_editor_completes_the_vocabulary_and_the_librarys_spellings(qtbot, window, tmp_path, monkeypatch):
    library(qtbot, window, tmp_path / "lib", {"a": ["hip hop"], "b": ["hip hop"], "c": ["Hip-Hop"], "d": ["DnB"]})
    offered = []
    monkeypatch.setattr("ui.main_window.GenreEditor", lambda items, known, parent: offered.append(known) or
                        type("Cancelled", (), {"exec": lambda self: False})())
    window.select_paths([window.session.items[0].path])
    window.edit_selected()
    known = offered[0]
    # One name per genre: the library's most common spelling beats the vocabulary's, aliases fold in.
    assert "hip hop" in known and "Hip-Hop" not in known and "HipHop" not in known
    assert "DnB" in known and "Drum and Bass" not in known
    assert {"Shoegaze", "Jazz", "UK Garage"} <= set(known) and len(known) > 1500
    assert known == sorted(known, key=str.casefold)


def test_a_hidden_panel_recounts_when_it_is_shown(qtbot, window, tmp_path):
    paths = library(qtbot, window, tmp_path / "lib", {"a": ["Jazz"], "b": ["Jazz"]})
    panel = window.genres_panel
    window.genres_dock.hide()
    audio = mutagen.File(paths["b"])
    audio["genre"] = ["Blues"]
    audio.save()
    window.session.clear()
    window.add_paths([tmp_path / "lib"])
    qtbot.waitUntil(lambda: not window.scans.running and len(window.session.items) == 2, timeout=WAIT_MS)
    qtbot.wait(600)  # longer than the recount's delay: a hidden panel does not recount
    assert rows(panel) == {"Jazz": (2, "")}
    window.genres_dock.show()
    assert rows(panel) == {"Jazz": (1, ""), "Blues": (1, "")}


def test_each_files_way_of_storing_several_genres_can_be_shown(qtbot, window, tmp_path):
    library(qtbot, window, tmp_path / "lib", {"a": ["Rock", "Pop"], "b": ["Rock; Pop"], "c": ["Jazz"], "d": []})
    panel = window.genres_panel
    choices = {panel.stored_as.itemText(i): panel.stored_as.itemData(i) for i in range(panel.stored_as.count())}
    assert list(choices) == ["any way", "no genre (1)", "one value (1)", "one value per genre (1)",
                             "genres joined in one value (1)"]

    def shown() -> set[str]:
        return {window.model.item_at(r).path.name for r in range(window.model.rowCount())}

    for text, names in [("genres joined in one value (1)", {"b.flac"}), ("one value per genre (1)", {"a.flac"}),
                        ("any way", {"a.flac", "b.flac", "c.flac", "d.flac"})]:
        panel.stored_as.setCurrentIndex(panel.stored_as.findText(text))
        panel.stored_as.activated.emit(panel.stored_as.currentIndex())
        assert shown() == names, text
    # Choosing a genre shows its files whatever the storage chosen before.
    panel.stored_as.setCurrentIndex(panel.stored_as.findText("one value (1)"))
    panel.stored_as.activated.emit(panel.stored_as.currentIndex())
    select(panel, "Rock")
    assert shown() == {"a.flac", "b.flac"} and panel.stored_as.currentData() is None


def id3v23(folder: Path, name: str, value: str) -> Path:
    """An MP3 whose ID3v2.3 genre frame holds ``value`` as it is: how ID3v2.3 taggers store several genres."""
    made = tagfiles.make(folder / name, "mp3-id3v23")
    path = made.rename(folder / f"{name}.mp3")
    tags = ID3(path)
    tags.delall("TCON")
    tags.add(TCON(encoding=1, text=[value]))
    tags.save(path, v2_version=3, v1=0)
    return path


def tab_counts(panel) -> tuple[tuple[int, ...], dict[str, int]]:
    """The tab's genres, files and those with variants or problems, and its files per way of storing."""
    counts = re.match(r"(\d+) genres in (\d+) files, (\d+) with variants or problems", panel.summary.text())
    assert counts, panel.summary.text()
    shown = {panel.stored_as.itemText(i) for i in range(1, panel.stored_as.count())}
    storage = {style.value: int(text.rsplit("(", 1)[1].rstrip(")")) for style, name in STORAGE_NAMES.items()
               for text in shown if text.startswith(name + " (")}
    return tuple(map(int, counts.groups())), storage


def command_counts(capsys, folder: Path) -> tuple[tuple[int, ...], dict[str, int]]:
    """What ``genre-tagger genres`` counts, as it prints them."""
    cli.main(["genres", str(folder)])
    last = capsys.readouterr().out.splitlines()[-1]
    counts = re.match(r"(\d+) file\(s\) read, (\d+) genre\(s\), (\d+) with variants or problems", last)
    assert counts, last
    files, genres, problems = map(int, counts.groups())
    storage = {style: int(n) for n, style in re.findall(r"(\d+) (\w+)", last.partition("stored as: ")[2])}
    return (genres, files, problems), storage


def normalise_plan(capsys, folder: Path) -> dict[str, list[str]]:
    """The files ``genre-tagger normalise`` would change, with their new genres."""
    cli.main(["normalise", "--dry-run", "--json", str(folder)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {Path(r["path"]).name: r["new_genres"] for r in records if r["status"] == "planned"}


def test_the_tab_normalise_and_genres_share_one_rule_and_count_alike(qtbot, window, tmp_path, capsys):
    folder = tmp_path / "lib"
    library(qtbot, window, folder, {"c": ["Jazz"], "d": ["hip-hop "], "e": ["Hip Hop"], "f": ["Hip Hop"],
                                    "g": ["Rock", "Other"]})
    id3v23(folder, "a", "Rock/Pop")
    id3v23(folder, "b", "Jazz;Blues")  # two genres joined as ID3v2.3 joins them: the file's way, no variant
    window.session.clear()
    window.add_paths([folder])
    qtbot.waitUntil(lambda: not window.scans.running and len(window.session.items) == 7, timeout=WAIT_MS)
    panel = window.genres_panel
    panel.refresh()
    assert tab_counts(panel) == command_counts(capsys, folder)
    assert tab_counts(panel)[0] == (6, 7, 4)  # Hip Hop; Rock and Pop, joined by "/"; Other, junk
    assert rows(panel)["Jazz"] == (2, "") and rows(panel)["Blues"] == (1, "")

    plans = []
    panel.confirm = lambda what, changes: plans.append({i.path.name: g for i, g in changes}) or True
    panel.buttons["Normalise All…"].click()
    assert plans == [normalise_plan(capsys, folder)] == [{"a.mp3": ["Rock", "Pop"], "d.flac": ["Hip Hop"]}]
    window.actions.update_now()
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert ID3(folder / "a.mp3").getall("TCON")[0].text == ["Rock; Pop"]
    panel.refresh()
    # As the command reads the files: "Rock; Pop" joined in one value, and nothing left to tidy but junk.
    assert tab_counts(panel) == command_counts(capsys, folder) == ((6, 7, 1), {"single": 4, "separate": 1,
                                                                                "joined": 2})
    assert normalise_plan(capsys, folder) == {}
    panel.buttons["Normalise All…"].click()
    assert len(plans) == 1 and panel.summary.text() == "Normalise all genres: no file would change."
