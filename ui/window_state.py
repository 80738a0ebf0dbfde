"""The window's layout across restarts: size, docks and toolbars, columns, and the sort."""

from __future__ import annotations

import base64
import logging

from PySide6.QtCore import QByteArray, QMargins, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QStyle, QTableView, QWidget

from tagger.files.state import StateError
from tagger.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_SIZE = (1280, 760)


def _encode(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _decode(text: str) -> QByteArray:
    return QByteArray(base64.b64decode(text, validate=True))


def fitted(geometry: QRect, available: QRect, frame: QMargins, minimum: QSize) -> QRect:
    """``geometry``, a window's without its frame, moved and shrunk so that the window
    with its ``frame`` lies on the ``available`` part of a screen; never below ``minimum``
    (a window that cannot shrink to fit keeps its top left corner on the screen)."""
    room = available.marginsRemoved(frame)
    size = geometry.size().boundedTo(room.size()).expandedTo(minimum)
    x = max(room.left(), min(geometry.left(), room.right() + 1 - size.width()))
    y = max(room.top(), min(geometry.top(), room.bottom() + 1 - size.height()))
    return QRect(x, y, size.width(), size.height())


def fit_on_screen(window: QWidget) -> None:
    """Keep the window, frame and all, on the available part of its screen: a layout saved on
    a larger screen, or at a smaller scale, and the first start's size may not fit."""
    if window.isMaximized() or window.isFullScreen():
        return
    geometry = window.geometry()
    screen = QGuiApplication.screenAt(geometry.center()) or window.screen()
    frame = QMargins(geometry.left() - window.frameGeometry().left(), geometry.top() - window.frameGeometry().top(),
                     window.frameGeometry().right() - geometry.right(),
                     window.frameGeometry().bottom() - geometry.bottom())
    if frame.isNull():  # not framed yet: room for the title bar a window manager will add
        frame = QMargins(0, window.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight), 0, 0)
    fit = fitted(geometry, screen.availableGeometry(), frame, window.minimumSizeHint())
    if window.testAttribute(Qt.WidgetAttribute.WA_Moved):
        window.setGeometry(fit)
    else:  # a first start: the window manager places a window of a size that fits
        window.resize(fit.size())


def restore_window(window: QMainWindow, table: QTableView, settings: Settings) -> None:
    """Lay the window out as it was, on the screen; the table sorted as its header shows.
    A damaged saved layout is ignored, not an error."""
    state = settings.window
    try:
        if "geometry" in state:
            window.restoreGeometry(_decode(state["geometry"]))
        else:
            window.resize(*DEFAULT_SIZE)
        if "state" in state:
            window.restoreState(_decode(state["state"]))
        if "columns" in state:
            table.horizontalHeader().restoreState(_decode(state["columns"]))
    except (ValueError, TypeError):
        log.warning("ignoring a damaged saved window layout")
    fit_on_screen(window)
    header = table.horizontalHeader()
    # Restoring the header brings back its sort indicator only; the rows need the sort itself.
    if header.isSortIndicatorShown() and 0 <= header.sortIndicatorSection() < table.model().columnCount():
        table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
    else:
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)


def save_window(window: QMainWindow, table: QTableView, settings: Settings) -> None:
    settings.window = {"geometry": _encode(window.saveGeometry()), "state": _encode(window.saveState()),
                       "columns": _encode(table.horizontalHeader().saveState())}
    try:
        settings.save()
    except StateError as e:
        log.warning("%s", e)
