"""Learning the person's genres in the app (ui/learn.py): the offer, the job, loading and forgetting."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from support.window import WAIT_MS, analysed, loaded, scanned, tagged_audio

from tagger.genres.suggestion import Source
from tagger.learning.learned import (
    DEFAULT_MIN_FILES,
    LearnedModel,
    TaggedFile,
    default_model_path,
    learn_plan,
    train,
)
from tagger.review.items import ReviewItem, ReviewState
from ui.actions import Act
from ui.learn import library_roots
from ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def base_model_again(analyzer):
    """The session's analyzer is shared: leave it ranking with the bundled vocabulary."""
    yield
    analyzer.use_learned(None)


N = DEFAULT_MIN_FILES  # the fewest files a genre needs to be learned


def two_genre_library(root: Path, files_per_album: int = (N + 1) // 2) -> list[Path]:
    """Four albums: two of Chiptune (low chords), two of Drone (high ones); the tracks
    of an album share its genre, so each genre has 2 × ``files_per_album`` (at least N) files."""
    paths = []
    for a, (genre, freq) in enumerate([("Chiptune", 220.0), ("Chiptune", 260.0), ("Drone", 880.0), ("Drone", 1000.0)]):
        for t in range(files_per_album):
            paths.append(tagged_audio(root / f"album{a}" / f"t{t}.flac", genre, f"Album {a}", "Someone",
                                      freq=freq * (1 + 0.05 * t)))
    return paths


def fake_model(models_key: str) -> LearnedModel:
    """A model trained, through the core's own ``train``, on made-up features: two
    genres of N files each, on two albums each. It is never asked to rank real audio."""
    rng = np.random.default_rng(0)
    files = [TaggedFile(Path(f"/m/{genre}{i}.flac"), (genre,), f"album {genre} {i % 2}",
                        rng.normal(centre, 0.1, 6))
             for genre, centre in (("Chiptune", 0.0), ("Drone", 1.0)) for i in range(N)]
    return train(files, models_key)


def test_the_plan_counts_genres_by_their_key_and_ignores_junk():
    def item(*genres: str) -> ReviewItem:
        return ReviewItem(Path(f"/m/{len(items)}.flac"), list(genres))

    items: list[ReviewItem] = []
    for genres in [("Hip-Hop",), ("hip hop",), ("HipHop", "Unknown"), ("Jazz",), ("jazz",), ("Unknown",),
                   ("Unknown",), ("Unknown",), ("Other",), ()]:
        items.append(item(*genres))
    def learnable(min_files: int) -> tuple[int, int]:
        plan = learn_plan((i.current_genres for i in items), min_files)
        return plan.files, len(plan.learned)

    assert learnable(3) == (3, 1)  # hip-hop three times; jazz twice; "Unknown" is no genre
    assert learnable(2) == (5, 2)
    assert learnable(4) == (0, 0)


def test_the_plan_says_what_will_be_learned_and_what_not_before_any_audio_is_read():
    def rows(counts: dict[str, int]) -> list[ReviewItem]:
        return [ReviewItem(Path(f"/m/{genre}{i}.flac"), [genre]) for genre, n in counts.items() for i in range(n)]

    library = rows({"Jazz": 56, "Rock": 50, "Polka": 1, "Dub": 1, "Ska": 1}) + rows({"Unknown": 4})
    plan = learn_plan((i.current_genres for i in library), 2)
    assert plan.enough and plan.learned == {"Jazz": 56, "Rock": 50} and plan.files == 106
    assert plan.text() == ("2 genres (Jazz, Rock) will be learned from the 106 files tagged with them; 3 genres on "
                           "a single file will not be learned (Dub, Polka, Ska) — tag one more file of each")
    # Files are counted once however many genres each carries, and a long list is cut.
    many = learn_plan([[f"Genre {g}" for g in range(7)]] * 2, 2)
    assert many.text() == ("7 genres (Genre 0, Genre 1, Genre 2, Genre 3, Genre 4 and 2 more) will be learned from "
                           "the 2 files tagged with them")
    # Spellings and a file with two genres count as learning counts them.
    plan = learn_plan([i.current_genres for i in rows({"Hip-Hop": 1, "hip hop": 1})] + [["Jazz", "Polka"]]
                      + [i.current_genres for i in rows({"Jazz": 1})], 2)
    assert plan.learned == {"Hip-Hop": 2, "Jazz": 2} and plan.files == 4
    assert plan.text().endswith("1 genre on a single file will not be learned (Polka) — tag one more file of it")
    few = learn_plan((i.current_genres for i in rows({"Rock": 9, "Jazz": 2, "Dub": 3})), 5)
    assert not few.enough
    assert few.text() == ("only 1 genre (Rock) is on 5 or more tagged files, and learning needs two genres to tell "
                          "apart; 2 genres on fewer than 5 files cannot be learned (Dub, Jazz) — tag each up to 5 "
                          "files")


def test_library_roots_leave_out_folders_inside_others(tmp_path):
    inner = tmp_path / "a" / "b"
    assert library_roots([inner, tmp_path / "a", tmp_path / "c", tmp_path / "a"]) == [tmp_path / "a", tmp_path / "c"]


def test_the_offer_appears_only_when_enough_files_are_tagged(qtbot, window, tmp_path):
    # One genre on enough files, another one file short: nothing to tell apart yet.
    for i in range(N):
        tagged_audio(tmp_path / "few" / f"a{i}.flac", "Chiptune", seconds=1.0)
    for i in range(N - 1):
        tagged_audio(tmp_path / "few" / f"b{i}.flac", "Drone", seconds=1.0)
    tagged_audio(tmp_path / "few" / "junk.flac", "Unknown", seconds=1.0)
    scanned(qtbot, window, [tmp_path / "few"])
    assert not window.learning.offer.isVisible()

    tagged_audio(tmp_path / "more" / "b.flac", "drone", seconds=1.0)  # the same genre, spelt otherwise
    scanned(qtbot, window, [tmp_path / "more"])
    offer = window.learning.offer
    assert offer.isVisible()
    assert f"will be learned from the {2 * N} files tagged with them." in offer.text.text()

    offer.not_now.click()
    assert not offer.isVisible()
    tagged_audio(tmp_path / "later" / "c.flac", "Chiptune", seconds=1.0)
    scanned(qtbot, window, [tmp_path / "later"])
    assert not offer.isVisible()  # "Not now" holds for the session


def learn_now(qtbot, window: MainWindow) -> None:
    """Trigger Learn once the action is enabled: its enable rules follow a scan's or a load's
    end on a timer, and a disabled action's trigger() does nothing."""
    qtbot.waitUntil(window.actions[Act.LEARN].isEnabled, timeout=WAIT_MS)
    window.actions[Act.LEARN].trigger()


def test_the_offer_and_learning_follow_the_settings(qtbot, window, tmp_path, analyzer):
    from dataclasses import replace

    two_genre_library(tmp_path / "music", files_per_album=2)  # 4 files per genre: under the default
    window.set_settings(replace(window.settings, learn_min_files=4, offer_learning=False))
    scanned(qtbot, window, [tmp_path / "music"])
    assert not window.learning.offer.isVisible()  # asked not to offer

    window.set_settings(replace(window.settings, offer_learning=True))
    scanned(qtbot, window, [tmp_path / "music"])
    assert window.learning.offer.isVisible()
    assert "will be learned from the 8 files tagged with them." in window.learning.offer.text.text()

    # A higher minimum takes the offer back at once, before any audio is read; a lower one brings it back.
    window.set_settings(replace(window.settings, learn_min_files=5))
    assert not window.learning.offer.isVisible()
    window.set_settings(replace(window.settings, learn_min_files=4))
    assert window.learning.offer.isVisible()

    loaded(qtbot, window)
    learn_now(qtbot, window)
    qtbot.waitUntil(lambda: not window.learning.running, timeout=WAIT_MS)
    assert window.learning.model is not None and window.learning.model.genres == ["Chiptune", "Drone"]


def test_no_offer_where_a_model_was_learned_already(qtbot, window, tmp_path, analyzer):
    loaded(qtbot, window)
    fake_model(analyzer.models_key).save()
    two_genre_library(tmp_path / "music")
    scanned(qtbot, window, [tmp_path / "music"])
    assert not window.learning.offer.isVisible()


def test_learning_runs_off_the_gui_thread_installs_the_model_and_re_ranks(qtbot, window, tmp_path, analyzer,
                                                                         monkeypatch):
    import ui.learn

    paths = two_genre_library(tmp_path / "music")
    untagged = tagged_audio(tmp_path / "music" / "loose" / "new.flac", freq=900.0)
    scanned(qtbot, window, [tmp_path / "music"])
    loaded(qtbot, window)
    window.analyse([untagged])
    analysed(qtbot, window)
    assert window.session.item(untagged).analysis.model == "base"
    assert window.learning.offer.isVisible()

    threads = []
    real_learn = ui.learn.learn

    def learn(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_learn(*args, **kwargs)

    monkeypatch.setattr(ui.learn, "learn", learn)
    qtbot.mouseClick(window.learning.offer.learn_button, Qt.MouseButton.LeftButton)
    assert window.learning.running and not window.actions[Act.LEARN].isEnabled()
    assert window.status.progress.isVisible() and window.status.progress_label.text().startswith("Learning your genres")
    qtbot.waitUntil(lambda: not window.learning.running, timeout=WAIT_MS)
    assert threads and threads[0] is not threading.main_thread()

    model = window.learning.model
    assert model is not None and model.genres == ["Chiptune", "Drone"]
    assert analyzer.learned is model
    assert LearnedModel.load(default_model_path()).genres == ["Chiptune", "Drone"]
    assert not window.learning.offer.isVisible()
    assert window.actions[Act.YOUR_GENRES].isEnabled()
    dialog = window.learning.dialog
    assert dialog is not None and dialog.isVisible() and dialog.model is model

    # The row analysed before is analysed again, now in the person's genres.
    analysed(qtbot, window)
    item = window.session.item(untagged)
    assert item.analysis.model == "learned"
    assert {g.genre for g in item.analysis.genres if g.source == Source.LEARNED} == {"Chiptune", "Drone"}
    assert all(window.session.item(p).analysis is None for p in paths)  # only analysed rows re-rank


def test_nothing_to_learn_says_why_at_once_without_analysing(qtbot, window, tmp_path, analyzer):
    for i in range(N + 1):
        tagged_audio(tmp_path / "music" / f"a{i}.flac", "Chiptune", seconds=3.0, freq=200.0 + 20 * i)
    tagged_audio(tmp_path / "music" / "b.flac", "Drone", seconds=3.0)
    scanned(qtbot, window, [tmp_path / "music"])
    learn_now(qtbot, window)
    assert window.learning.job is None and not window.learning.running  # the tags said it: no audio was read
    box = window.learning.message
    assert box is not None and box.isVisible()
    assert box.windowTitle() == "Nothing to learn"
    assert box.text() == (f"Only 1 genre (Chiptune) is on {N} or more tagged files, and learning needs two genres "
                          "to tell apart; 1 genre on a single file cannot be learned (Drone) — tag one more file of "
                          "it. Tag more files, then learn.")
    assert window.learning.model is None and analyzer.learned is None and window.learning.dialog is None
    assert not default_model_path().exists()
    assert window.actions[Act.LEARN].isEnabled()


def test_learn_says_at_once_what_it_will_learn_and_what_not(qtbot, window, tmp_path):
    two_genre_library(tmp_path / "music")
    tagged_audio(tmp_path / "music" / "odd.flac", "Polka", seconds=1.0)
    scanned(qtbot, window, [tmp_path / "music"])
    assert "1 genre on a single file will not be learned (Polka)" in window.learning.offer.text.text()
    learn_now(qtbot, window)
    assert window.status.message_label.message().startswith("2 genres (")
    assert window.status.message_label.message().endswith(
        f") will be learned from the {4 * ((N + 1) // 2)} files tagged with them; 1 genre on a single file will not "
        "be learned (Polka) — tag one more file of it.")
    qtbot.waitUntil(lambda: not window.learning.running, timeout=WAIT_MS)
    assert window.learning.model.report.thin == {"Polka": 1}


def test_cancel_stops_learning_and_keeps_no_model(qtbot, window, tmp_path, analyzer):
    for a, genre in enumerate(["Chiptune", "Chiptune", "Drone", "Drone"]):
        for t in range(3):
            tagged_audio(tmp_path / "music" / f"album{a}" / f"t{t}.flac", genre, f"Album {a}", seconds=40.0,
                         freq=300.0 * (a + 1) + 10 * t)
    scanned(qtbot, window, [tmp_path / "music"])
    window.settings.depth = "full"
    learn_now(qtbot, window)
    qtbot.waitUntil(lambda: window.status.progress.value() >= 1, timeout=WAIT_MS)
    window.actions[Act.CANCEL].trigger()
    qtbot.waitUntil(lambda: not window.learning.running, timeout=5000)
    qtbot.wait(50)
    assert window.status.progress_label.text() == "Learning cancelled"
    assert window.learning.model is None and analyzer.learned is None
    assert not default_model_path().exists()


def test_analysing_while_learning_waits_for_it(qtbot, window, tmp_path):
    paths = two_genre_library(tmp_path / "music")
    scanned(qtbot, window, [tmp_path / "music"])
    learn_now(qtbot, window)
    window.analyse([paths[0]])
    assert window.analysis.job is None  # not two runs over the same models at once
    qtbot.waitUntil(lambda: not window.learning.running, timeout=WAIT_MS)
    analysed(qtbot, window)
    assert window.session.item(paths[0]).state is ReviewState.SUGGESTED


def test_the_window_loads_the_stored_model_as_it_opens(qtbot, analyzer):
    model = fake_model(analyzer.models_key)
    model.save()
    w = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(w)
    loaded(qtbot, w)
    assert w.learning.model is not None and w.learning.model.genres == model.genres
    assert analyzer.learned is w.learning.model
    assert w.actions[Act.YOUR_GENRES].isEnabled()
    w.actions[Act.YOUR_GENRES].trigger()
    assert w.learning.dialog.isVisible()
    w.close()


def test_a_model_for_other_analysis_models_is_not_used_and_the_status_bar_says_why(qtbot, analyzer):
    fake_model("someone else's models").save()
    w = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(w)
    loaded(qtbot, w)
    assert w.learning.model is None and analyzer.learned is None
    assert not w.actions[Act.YOUR_GENRES].isEnabled()
    message = w.status.message_label.message()
    assert message.startswith("Suggesting from the bundled vocabulary: the learned model was trained on other "
                              "analysis models (someone else's models)")
    w.close()


def test_forgetting_asks_first_then_removes_the_model(qtbot, analyzer):
    fake_model(analyzer.models_key).save()
    w = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(w)
    loaded(qtbot, w)
    dialog = w.learning.show_report()
    questions = []
    w.confirm = lambda question: questions.append(question) or False
    dialog.forget_button.click()
    assert default_model_path().exists() and analyzer.learned is not None and w.learning.model is not None
    w.confirm = lambda question: questions.append(question) or True
    dialog.forget_button.click()
    assert len(questions) == 2 and questions[0].startswith(f"Forget the genres learned from {2 * N} tagged files?")
    assert not default_model_path().exists()
    assert analyzer.learned is None and w.learning.model is None
    assert not dialog.isVisible() and not w.actions[Act.YOUR_GENRES].isEnabled()
    assert w.status.message_label.message().startswith("Forgot the learned model")
    w.close()
