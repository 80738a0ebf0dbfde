"""The window's layout across restarts (ui/window_state.py): it fits the screen it opens on."""

from __future__ import annotations

import base64

from PySide6.QtCore import QMargins, QRect, QSize
from PySide6.QtGui import QGuiApplication, QStandardItemModel
from PySide6.QtWidgets import QMainWindow, QTableView

from tagger.settings import Settings
from ui.window_state import DEFAULT_SIZE, fitted, restore_window

TITLE_BAR = QMargins(0, 24, 0, 0)


def test_a_window_larger_than_the_screen_shrinks_onto_it_frame_and_all():
    # A 1280x800 screen at QT_SCALE_FACTOR=2 is 640x400 to the app.
    screen = QRect(0, 0, 640, 400)
    fit = fitted(QRect(QRect(0, 0, *DEFAULT_SIZE)), screen, TITLE_BAR, QSize(300, 200))
    assert fit == QRect(0, 24, 640, 376)
    assert screen.contains(fit.marginsAdded(TITLE_BAR))


def test_a_window_off_the_screen_moves_onto_it_and_keeps_a_size_that_fits():
    screen = QRect(0, 0, 1280, 800)
    assert fitted(QRect(1500, 300, 800, 600), screen, TITLE_BAR, QSize(300, 200)) == QRect(480, 200, 800, 600)
    assert fitted(QRect(-400, -50, 800, 600), screen, TITLE_BAR, QSize(300, 200)) == QRect(0, 24, 800, 600)
    inside = QRect(100, 100, 800, 600)
    assert fitted(inside, screen, TITLE_BAR, QSize(300, 200)) == inside


def test_a_window_that_cannot_shrink_enough_keeps_its_corner_on_the_screen():
    fit = fitted(QRect(200, 200, 800, 600), QRect(0, 0, 640, 400), TITLE_BAR, QSize(700, 450))
    assert fit == QRect(0, 24, 700, 450)


def window_and_table(qtbot) -> tuple[QMainWindow, QTableView]:
    window = QMainWindow()
    table = QTableView()
    table.setModel(QStandardItemModel(0, 3, table))
    window.setCentralWidget(table)
    qtbot.addWidget(window)
    return window, table


def framed(window: QMainWindow) -> QRect:
    """The window's geometry with the title bar that restore_window leaves room for."""
    title_bar = window.style().pixelMetric(window.style().PixelMetric.PM_TitleBarHeight)
    return window.geometry().marginsAdded(QMargins(0, title_bar, 0, 0))


def test_the_first_start_and_a_restored_layout_fit_the_screen(qtbot):
    available = QGuiApplication.primaryScreen().availableGeometry()
    assert available.width() < DEFAULT_SIZE[0] or available.height() < DEFAULT_SIZE[1], \
        "the offscreen screen is smaller than the default size"
    window, table = window_and_table(qtbot)
    restore_window(window, table, Settings())
    # Where a first start's window goes is the window manager's choice; its size fits.
    assert available.size().expandedTo(framed(window).size()) == available.size()
    assert window.width() == min(DEFAULT_SIZE[0], available.width())

    # A layout saved on a larger screen, with the window partly off this one.
    large, _ = window_and_table(qtbot)
    large.setGeometry(available.right() - 200, 50, available.width() + 300, available.height() + 200)
    saved = Settings(window={"geometry": base64.b64encode(bytes(large.saveGeometry().data())).decode("ascii")})
    window, table = window_and_table(qtbot)
    restore_window(window, table, saved)
    assert available.contains(framed(window))
