"""The menus and the two toolbars: the actions laid out, the write mode, and the filter
with its search box."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QMenuBar, QToolBar, QWidget

from tagger.tags import WriteMode
from ui.actions import Act, ActionTable
from ui.library import Filter

MENUS = {
    "&File": [Act.ADD_FOLDER, Act.ADD_FILES, None, Act.SETTINGS, None, Act.QUIT],
    "&Edit": [Act.UNDO, Act.HISTORY, None, Act.ACCEPT, Act.ACCEPT_ABOVE, Act.REJECT, Act.EDIT, None, Act.APPLY, None,
              Act.FIND],
    "&Analysis": [Act.ANALYSE_SELECTED, Act.ANALYSE_ALL, Act.CANCEL, None, Act.LEARN, Act.YOUR_GENRES],
    "&View": [Act.GROUP_BY_ALBUM],
}
TOOLBAR = [Act.ADD_FOLDER, Act.ANALYSE_SELECTED, Act.ANALYSE_ALL, Act.LEARN, None, Act.ACCEPT, Act.REJECT, Act.EDIT,
           None, Act.APPLY, Act.UNDO]
SEARCH_PAUSE_MS = 200  # filter once typing pauses


def build_menus(menus: QMenuBar, actions: ActionTable, view_extras: list[QAction]) -> None:
    for title, acts in MENUS.items():
        menu = menus.addMenu(title)
        for act in acts:
            menu.addSeparator() if act is None else menu.addAction(actions[act])
    for action in view_extras:  # View is the last menu
        menu.addAction(action)


class MainToolBar(QToolBar):
    """The common actions, and the write mode chosen per batch (``mode``)."""

    def __init__(self, actions: ActionTable, write_mode: str, parent: QWidget | None = None) -> None:
        super().__init__("Main", parent)
        self.setObjectName("main-toolbar")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in TOOLBAR:
            self.addSeparator() if act is None else self.addAction(actions[act])
        self.addSeparator()
        self.mode = QComboBox()
        self.mode.addItems([m.value for m in WriteMode])
        self.mode.setCurrentText(write_mode)
        self.mode.setToolTip("replace: the accepted genres replace the file's genres\n"
                             "merge: they are added to the file's genres")
        self.addWidget(QLabel(" Write mode: "))
        self.addWidget(self.mode)


class SearchBox(QLineEdit):
    """Says ``changed`` once typing pauses; Esc clears it (rather than cancelling the work
    that runs, Esc's meaning elsewhere)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Search artist, title, album, genre or path")
        self.setClearButtonEnabled(True)
        self._pause = QTimer(self, singleShot=True, interval=SEARCH_PAUSE_MS)
        self._pause.timeout.connect(self.changed)
        self.textChanged.connect(lambda _: self._pause.start())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            self._pause.stop()
            self.changed.emit()
            return
        super().keyPressEvent(event)


class FilterBar(QToolBar):
    """Which rows show (``filter_box``, ``search``); ``changed`` when either changes."""

    changed = Signal()

    def __init__(self, actions: ActionTable, parent: QWidget | None = None) -> None:
        super().__init__("Filter", parent)
        self.setObjectName("filter-toolbar")
        self.filter_box = QComboBox()
        self.filter_box.addItems([f.value for f in Filter])
        self.filter_box.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.search = SearchBox()
        self.search.changed.connect(self.changed)
        self.addWidget(QLabel(" Show: "))
        self.addWidget(self.filter_box)
        self.addWidget(self.search)
        self.addSeparator()
        self.addAction(actions[Act.GROUP_BY_ALBUM])
