"""The menus and the two toolbars: the actions laid out, the write mode, and the filter
with its search box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeyEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMenuBar,
    QToolBar,
    QToolButton,
    QWidget,
)

from tagger.tags import WriteMode
from ui.actions import Act, ActionTable
from ui.library import Filter

MENUS = {
    "&File": [Act.ADD_FOLDER, Act.ADD_FILES, None, Act.SETTINGS, None, Act.QUIT],
    "&Edit": [Act.UNDO, Act.HISTORY, None, Act.ACCEPT, Act.ACCEPT_ABOVE, Act.REJECT, Act.EDIT, None, Act.APPLY, None,
              Act.FIND],
    "&Analysis": [Act.ANALYSE_SELECTED, Act.ANALYSE_ALL, Act.ANALYSE_FULLY, Act.CANCEL, None, Act.LEARN,
                  Act.YOUR_GENRES],
    "&View": [Act.GROUP_BY_ALBUM],
}
TOOLBAR = [Act.ADD_FOLDER, Act.ANALYSE_SELECTED, Act.ANALYSE_ALL, Act.LEARN, None, Act.ACCEPT, Act.REJECT, Act.EDIT,
           None, Act.APPLY, Act.UNDO]
SEARCH_PAUSE_MS = 200  # filter once typing pauses


def overflow_icon(colour: QColor, size: int = 16) -> QIcon:
    """A chevron in ``colour``. Some themes' own overflow arrow is a dark symbolic icon that
    vanishes on a dark palette (seen with the dark GTK theme at 600 px): the toolbar's
    hidden actions then look gone."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colour, 1.8))
    for x in (size * 0.3, size * 0.55):
        painter.drawPolyline([QPointF(x, size * 0.28), QPointF(x + size * 0.22, size * 0.5),
                              QPointF(x, size * 0.72)])
    painter.end()
    return QIcon(pixmap)


class OverflowToolBar(QToolBar):
    """A toolbar whose overflow button (the actions that do not fit) shows in every theme."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.orientationChanged.connect(lambda _: self._mark_overflow())
        self._mark_overflow()

    def overflow_button(self) -> QToolButton | None:
        return self.findChild(QToolButton, "qt_toolbar_ext_button")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._mark_overflow()

    def _mark_overflow(self) -> None:
        button = self.overflow_button()
        if button is not None:
            button.setIcon(overflow_icon(self.palette().color(QPalette.ColorRole.ButtonText)))
            button.setToolTip("More actions")


def build_menus(menus: QMenuBar, actions: ActionTable, view_extras: list[QAction]) -> None:
    for title, acts in MENUS.items():
        menu = menus.addMenu(title)
        for act in acts:
            menu.addSeparator() if act is None else menu.addAction(actions[act])
    for action in view_extras:  # View is the last menu
        menu.addAction(action)


class MainToolBar(OverflowToolBar):
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


class FilterBar(OverflowToolBar):
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
