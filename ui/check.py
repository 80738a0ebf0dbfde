"""Checking one dropped file: its card, and its analysis ahead of anything queued."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from tagger.review.items import ReviewState
from ui.dialogs import CheckCard

if TYPE_CHECKING:
    from ui.main_window import MainWindow


class FileChecks(QObject):
    """The open check cards, one per file, and the files whose card waits for a result."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.cards: dict[Path, CheckCard] = {}
        self._waiting: set[Path] = set()

    def check(self, path: Path) -> CheckCard:
        """Analyse one file now and show its card."""
        w = self.window
        path = path.absolute()
        card = self.cards.get(path)
        if card is None:
            card = CheckCard(path, w.player, w)
            card.apply_requested.connect(self._apply)
            card.toggled_genre.connect(w.toggle_genre)
            card.edit_requested.connect(self._edit)
            card.finished.connect(lambda _: self.cards.pop(path, None))
            self.cards[path] = card
        card.show()
        card.raise_()

        def analyse_now() -> None:
            item = w.session.item(path)
            if item is None:
                return
            if item.state is ReviewState.ERROR and item.analysis is None and item.error:
                card.show_item(item)  # the scan already found it unusable
            else:
                self._waiting.add(path)
                if w.analysis is None or not w.analysis.running:
                    w.analyse([path])
                # else the running batch takes it next, or, if it is too far along,
                # analyses it as soon as it ends (take_waiting)
                elif not w.analysis.prioritise(path):
                    w.notify(f"{path.name} is analysed as soon as the current batch ends")
            w.select_paths([path])

        if w.session.item(path) is None:
            w.add_paths([path], then=analyse_now)
        else:
            analyse_now()
        return card

    def show(self, paths: Iterable[Path]) -> None:
        """Repaint the cards of ``paths``, which changed."""
        for path in set(paths) & self.cards.keys():
            self.cards[path].show_item(self.window.session.item(path))

    def arrived(self, path: Path) -> None:
        self._waiting.discard(path)

    def take_waiting(self) -> list[Path]:
        """The checked files an analysis run ended without: the next run takes them."""
        waiting, self._waiting = self._waiting, set()
        return sorted(waiting)

    def _apply(self, path: Path) -> None:
        w = self.window
        item = w.session.item(path)
        if item is None or (item.state is not ReviewState.ACCEPTED and w.session.accept([item])):
            return  # nothing chosen to write; the card says so
        w.apply_accepted([item])

    def _edit(self, path: Path) -> None:
        self.window.select_paths([path])
        self.window.edit_selected()
