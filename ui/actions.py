"""The window's actions in one table: what each is called, its key, its icon, and
when it is enabled.

Enable rules read one ``ActionContext``, a snapshot counted in a single pass over
the rows. Updates are throttled: the first change shows at once, and the rest of a
burst (an analysis delivers results every few milliseconds) is counted once after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QByteArray, QElapsedTimer, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

from tagger.resources import resource_dir
from tagger.review.items import ReviewItem

THROTTLE_MS = 100
ICON_SIZES = (16, 22, 24, 32, 48, 64)  # 64 for a 32 px toolbar at twice the scale


def own_icon(name: str, colour: QColor) -> QIcon:
    """Our drawing of the theme icon ``name`` (resources/icons/actions), its lines in
    ``colour`` so that it reads on a light or a dark theme. Without an icon theme, Qt's
    own stand-ins mislead: an info sign for Learn, a trash can for Reject, a back arrow for Undo."""
    svg = (resource_dir() / "icons" / "actions" / f"{name}.svg").read_text(encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", colour.name()).encode()))
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


@dataclass(frozen=True)
class ActionContext:
    """What the enable rules need to know, counted once."""

    rows: int = 0
    selected: int = 0
    acceptable_selected: int = 0  # selected rows with genres to accept
    writable: int = 0  # accepted rows that can be written
    analysing: bool = False
    writing: bool = False
    scanning: bool = False
    learning: bool = False
    can_undo: bool = False
    learned_model: bool = False

    @property
    def busy(self) -> bool:
        return self.analysing or self.writing or self.scanning or self.learning


def row_counts(items: Iterable[ReviewItem], selected: Iterable[ReviewItem]) -> tuple[int, int, int]:
    """(rows, writable rows, acceptable selected rows), in one pass over each list."""
    rows = writable = 0
    for item in items:
        rows += 1
        writable += item.can_write
    return rows, writable, sum(1 for i in selected if i.can_accept)


@dataclass(frozen=True)
class ActionSpec:
    """One action of the app: its words, shortcut, icon, tip, and when it is enabled."""

    text: str
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
    icon: str | None = None  # the theme's name for it; our own drawing of that name where the theme has none
    tip: str | None = None
    enabled: Callable[[ActionContext], bool] = lambda c: True
    checkable: bool = False
    icon_text: str | None = None


class Act(Enum):
    """Every action of the app, in one table that the menus, toolbars and enable rules read."""

    ADD_FOLDER = ActionSpec("Add &Folder…", QKeySequence.StandardKey.Open, "folder-open")
    ADD_FILES = ActionSpec("Add F&iles…", "Ctrl+Shift+O", "document-open")
    ANALYSE_SELECTED = ActionSpec("&Analyse Selected", "Ctrl+R", "media-playback-start",
                                  enabled=lambda c: c.selected > 0 and not c.analysing)
    ANALYSE_ALL = ActionSpec("Analyse A&ll", "Ctrl+Shift+R", "media-seek-forward",
                             enabled=lambda c: c.rows > 0 and not c.analysing)
    ANALYSE_FULLY = ActionSpec("Analyse Selected F&ully", "Ctrl+Alt+R",
                               tip="Analyse every 3 s of the selected files, adding to what was analysed before",
                               enabled=lambda c: c.selected > 0 and not c.analysing)
    CANCEL = ActionSpec("&Cancel", "Esc", "process-stop", enabled=lambda c: c.busy)
    ACCEPT = ActionSpec("&Accept", "Ctrl+Return", "dialog-ok-apply",
                        "Accept the selected rows' chosen genres for writing",
                        enabled=lambda c: c.acceptable_selected > 0)
    ACCEPT_ABOVE = ActionSpec("Accept Confident Rows…", "Ctrl+Shift+Return",
                              tip="Accept every undecided row whose best genre reaches a confidence",
                              enabled=lambda c: c.rows > 0)
    REJECT = ActionSpec("&Reject", "Ctrl+Backspace", "dialog-cancel",
                        "Leave the selected rows' files as they are", enabled=lambda c: c.selected > 0)
    EDIT = ActionSpec("&Edit Genres…", "F2", "document-edit",
                      "Choose the selected rows' genres yourself (this accepts them)",
                      enabled=lambda c: c.selected > 0)
    APPLY = ActionSpec("A&pply", QKeySequence.StandardKey.Save, "document-save",
                       "Write the accepted rows' genres to their files",
                       enabled=lambda c: c.writable > 0 and not c.writing)
    UNDO = ActionSpec("&Undo Last Apply", QKeySequence.StandardKey.Undo, "edit-undo",
                      "Undo the last batch this window wrote", enabled=lambda c: c.can_undo and not c.writing)
    HISTORY = ActionSpec("&History…", "Ctrl+H", "document-open-recent",
                         "Every batch written, and undo of an older one", enabled=lambda c: not c.writing)
    SETTINGS = ActionSpec("&Settings…", QKeySequence.StandardKey.Preferences)
    LEARN = ActionSpec("&Learn from Tagged Files", "Ctrl+L", "tools-wizard",
                       "Learn your own genres from the files you already tagged",
                       enabled=lambda c: c.rows > 0 and not c.analysing and not c.learning,
                       icon_text="Learn Genres")
    YOUR_GENRES = ActionSpec("Your &Genres…", tip="What was learned from your tags, and how well it does",
                             enabled=lambda c: c.learned_model)
    GROUP_BY_ALBUM = ActionSpec("Group by Al&bum", "Ctrl+B",
                                tip="Show albums that expand into their tracks; accept an album to give its "
                                    "tracks the genres it agrees on", checkable=True)
    FIND = ActionSpec("&Find", QKeySequence.StandardKey.Find)
    QUIT = ActionSpec("&Quit", QKeySequence.StandardKey.Quit)


class ActionTable(QObject):
    """One QAction per ``Act``, with throttled enable rules."""

    def __init__(self, window: QWidget, context: Callable[[], ActionContext]) -> None:
        super().__init__(window)
        self._context = context
        self.actions: dict[Act, QAction] = {}
        for act in Act:
            spec: ActionSpec = act.value
            action = QAction(spec.text, window)
            if spec.shortcut is not None:
                action.setShortcut(spec.shortcut)
            if spec.icon is not None:
                colour = window.palette().color(QPalette.ColorRole.ButtonText)
                action.setIcon(QIcon.fromTheme(spec.icon, own_icon(spec.icon, colour)))
            if spec.icon_text:
                action.setIconText(spec.icon_text)
            action.setCheckable(spec.checkable)
            action.setStatusTip(spec.tip or spec.text.replace("&", "").rstrip("…"))
            self.actions[act] = action
        self._timer = QTimer(self, singleShot=True, interval=THROTTLE_MS)
        self._timer.timeout.connect(self.update_now)
        self._since_update = QElapsedTimer()

    def __getitem__(self, act: Act) -> QAction:
        return self.actions[act]

    def connect(self, slots: dict[Act, Callable[[], object]]) -> None:
        for act, slot in slots.items():
            self.actions[act].triggered.connect(lambda checked=False, slot=slot: slot())

    def update_soon(self) -> None:
        """Recompute the enable rules now if they were not recomputed lately, else once
        the current burst of changes is over: the first change shows at once."""
        if self._timer.isActive():
            return
        if self._since_update.isValid() and self._since_update.elapsed() < THROTTLE_MS:
            self._timer.start()
        else:
            self.update_now()

    def stop(self) -> None:
        """No more updates: the window is closing."""
        self._timer.stop()
        self._timer.timeout.disconnect(self.update_now)

    def update_now(self) -> None:
        self._timer.stop()
        self._since_update.start()
        context = self._context()
        for act, action in self.actions.items():
            action.setEnabled(act.value.enabled(context))
