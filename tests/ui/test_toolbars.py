"""The toolbars: hidden actions stay reachable in every theme, and the search box."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QMainWindow

from ui.actions import ActionTable
from ui.toolbars import MainToolBar, overflow_icon


def test_a_narrow_toolbar_shows_its_overflow_button_in_the_themes_text_colour(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    palette = window.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#202020"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#f0f0f0"))  # a dark theme
    window.setPalette(palette)
    toolbar = MainToolBar(ActionTable(window, lambda: None), "replace")
    window.addToolBar(toolbar)
    window.resize(300, 200)
    window.show()
    qtbot.waitExposed(window)
    button = toolbar.overflow_button()
    assert button is not None and button.isVisible()  # the actions that do not fit are behind it
    image = button.icon().pixmap(16, 16).toImage()
    inked = [image.pixelColor(x, y) for x in range(16) for y in range(16) if image.pixelColor(x, y).alpha() > 128]
    assert inked and all(c.lightness() > 180 for c in inked)  # light on the dark theme, not its dark arrow


def test_the_overflow_icon_takes_the_colour_it_is_given():
    image = overflow_icon(QColor("#ff0000")).pixmap(16, 16).toImage()
    reds = [image.pixelColor(x, y) for x in range(16) for y in range(16) if image.pixelColor(x, y).alpha() > 200]
    assert reds and all(c.red() > 200 and c.green() < 60 for c in reds)


def test_without_an_icon_theme_the_actions_show_our_own_icons_in_the_themes_text_colour(qtbot):
    from PySide6.QtGui import QIcon

    from ui.actions import Act, own_icon

    # As on a desktop without an icon theme, where Qt's own stand-ins were an info sign
    # for Learn, a trash can for Reject and a back arrow for Undo.
    assert not QIcon.hasThemeIcon("edit-undo")
    window = QMainWindow()
    qtbot.addWidget(window)
    palette = window.palette()
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#ff0000"))
    window.setPalette(palette)
    table = ActionTable(window, lambda: None)
    with_icons = [act for act in Act if act.value.icon is not None]
    assert {Act.LEARN, Act.REJECT, Act.UNDO} <= set(with_icons)
    for act in with_icons:
        image = table[act].icon().pixmap(24, 24).toImage()
        assert image == own_icon(act.value.icon, QColor("#ff0000")).pixmap(24, 24).toImage(), act
        inked = [image.pixelColor(x, y) for x in range(24) for y in range(24) if image.pixelColor(x, y).alpha() > 200]
        assert inked, act
    undo = table[Act.UNDO].icon().pixmap(16, 16).toImage()
    lines = [undo.pixelColor(x, y) for x in range(16) for y in range(16) if undo.pixelColor(x, y).alpha() > 200]
    assert lines and all(c.red() > 200 and c.green() < 60 for c in lines)  # drawn in the theme's text colour
