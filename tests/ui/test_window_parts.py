"""The main window's parts: the controls that run its long work, and the protocol through
which the panels (file checks, learning, the kept review) reach the window."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QWidget
from support.paths import REPO
from support.window import WAIT_MS

from tagger.review.items import ReviewItem, ReviewState
from tagger.review.session import ReviewSession
from tagger.settings import Settings
from tagger.tags import WriteMode
from tagger.writing.journal import Journal
from ui.analysis_control import AnalysisControl
from ui.main_window import MainWindow
from ui.panels import PanelHost
from ui.restored import KeptReview
from ui.scan_control import ScanControl
from ui.status_bar import StatusBar
from ui.write_control import WriteControl

PANELS = ("check", "learn", "restored")


def host_members() -> set[str]:
    return set(PanelHost.__annotations__) | {name for name in vars(PanelHost) if not name.startswith("_")}


def used_of_host(module: str) -> set[str]:
    """What ui/``module``.py reads of its host: ``self.host.x``, or ``host.x`` through a local."""
    used = set()
    for node in ast.walk(ast.parse((REPO / "ui" / f"{module}.py").read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        if (isinstance(value, ast.Name) and value.id == "host") or (
                isinstance(value, ast.Attribute) and value.attr == "host"
                and isinstance(value.value, ast.Name) and value.value.id == "self"):
            used.add(node.attr)
    return used


def test_the_panels_use_exactly_what_the_protocol_names_and_not_the_window():
    assert set().union(*map(used_of_host, PANELS)) == host_members()
    for module in PANELS:
        assert "main_window" not in (REPO / "ui" / f"{module}.py").read_text(encoding="utf-8")


def test_the_main_window_is_what_the_panels_take(qtbot, analyzer):
    window = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(window)
    assert [m for m in sorted(host_members()) if not hasattr(window, m)] == []
    assert window.window() is window


def test_a_panel_works_with_any_host_of_that_shape(qtbot, tmp_path):
    parent = QWidget()
    qtbot.addWidget(parent)
    calls = []
    folder = tmp_path / "music"
    host = SimpleNamespace(session=ReviewSession(Settings(), Journal(tmp_path / "journal.sqlite3")),
                           window=lambda: parent, analysis=SimpleNamespace(running=False),
                           scans=SimpleNamespace(added_this_start=[folder]),
                           add_paths=lambda paths, then=None: calls.append(("add", paths)),
                           notify=lambda message: calls.append(("notify", message)))
    KeptReview(host).discard()
    assert calls == [("add", [folder]), ("notify", "Discarded the last review; the files are as they are")]


@pytest.fixture
def session(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    yield ReviewSession(Settings(), journal)
    journal.close()


@pytest.fixture
def status(qtbot):
    bar = StatusBar(lambda: None)
    qtbot.addWidget(bar)
    return bar


def test_scans_feed_the_session_and_say_when_the_last_has_ended(qtbot, session, status, make_audio, tmp_path):
    make_audio("one/a.flac", seconds=1.0)
    make_audio("two/b.flac", seconds=1.0)
    scans = ScanControl(session, status)
    ended, after = [], []
    scans.all_ended.connect(lambda: ended.append(len(session.items)))
    scans.add([tmp_path / "one"], then=lambda: after.append(len(session.items)))
    assert scans.running
    qtbot.waitUntil(lambda: not scans.running, timeout=WAIT_MS)
    scans.add([tmp_path / "two", tmp_path / "one"])  # a file already listed is not read again
    qtbot.waitUntil(lambda: not scans.running, timeout=WAIT_MS)
    assert sorted(i.path.name for i in session.items) == ["a.flac", "b.flac"]
    assert ended == [1, 2] and after == [1]
    assert scans.added_this_start == [tmp_path / "one", tmp_path / "two"]


def test_an_analysis_run_feeds_the_session_and_what_waits_for_it_runs_after(qtbot, session, status, analyzer,
                                                                              make_audio):
    path = make_audio("a.flac", seconds=4.0)
    session.add([ReviewItem(path)])
    prepared, arrived, later = [], [], []
    analysis = AnalysisControl(session, status, lambda device: analyzer, prepared.append)
    analysis.arrived.connect(arrived.extend)
    analysis.after_run(lambda: later.append("idle"))  # nothing runs: at once
    with qtbot.waitSignal(analysis.ended, timeout=WAIT_MS) as ended:
        analysis.start([path])
        analysis.after_run(lambda: later.append("after the run"))
        assert analysis.running and later == ["idle"]
    qtbot.waitUntil(lambda: len(later) == 2, timeout=WAIT_MS)
    assert ended.args == [False] and arrived == [path] and prepared == [analyzer]
    assert session.item(path).analysis is not None and status.progress_label.text().startswith("Analysed 1 file")
    assert not analysis.prioritise(path)  # no run left to take it


def test_a_write_with_nothing_accepted_starts_no_job(qtbot, session, status):
    session.add([ReviewItem(Path("/m/song.flac"), ["Pop"])])
    writes = WriteControl(session, status)
    writes.apply(None, WriteMode.REPLACE)
    assert writes.job is None and not writes.running
    assert status.message_label.message() == "Nothing accepted to write: accept or edit rows first"
    assert session.items[0].state is ReviewState.NEW
