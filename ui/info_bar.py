"""A tinted bar above the table that tells the person something and offers buttons."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class InfoBar(QFrame):
    """Text on the left, buttons on the right; hidden until there is something to say."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # The highlight colour mixed into the base: stands out in light and dark themes alike.
        palette = self.palette()
        base, tint = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Highlight)
        palette.setColor(QPalette.ColorRole.Window, QColor.fromRgbF(
            *(0.85 * b + 0.15 * t for b, t in zip(base.getRgbF()[:3], tint.getRgbF()[:3]))))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 4, 6, 4)
        self._layout.addWidget(self.text, 1)
        self.hide()

    def add_button(self, text: str, tip: str | None = None) -> QPushButton:
        button = QPushButton(text)
        if tip:
            button.setToolTip(tip)
        self._layout.addWidget(button)
        return button
