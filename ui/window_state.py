"""The window's layout across restarts: size, docks and toolbars, columns, and the sort."""

from __future__ import annotations

import base64
import logging

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QMainWindow, QTableView

from tagger.files.state import StateError
from tagger.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_SIZE = (1280, 760)


def _encode(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _decode(text: str) -> QByteArray:
    return QByteArray(base64.b64decode(text, validate=True))


def restore_window(window: QMainWindow, table: QTableView, settings: Settings) -> None:
    """Lay the window out as it was; the table sorted as its header shows. A damaged
    saved layout is ignored, not an error."""
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
