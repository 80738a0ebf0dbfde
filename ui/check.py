"""Checking one dropped file: its card, and its analysis ahead of anything queued."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject

from tagger.review.items import ReviewState
from ui.dialogs import CheckCard
from ui.panels import PanelHost


class FileChecks(QObject):
    """The open check cards, one per file, and the files whose card waits for a result."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(host.window())
        self.host = host
        self.cards: dict[Path, CheckCard] = {}
        self._waiting: set[Path] = set()
        host.analysis.arrived.connect(self._arrived)
        host.analysis.ended.connect(self._analyse_waiting)

    def check(self, path: Path) -> CheckCard:
        """Analyse one file now and show its card."""
        host = self.host
        path = path.absolute()
        card = self.cards.get(path)
        if card is None:
            card = CheckCard(path, host.player, host.window())
            card.apply_requested.connect(self._apply)
            card.toggled_genre.connect(host.toggle_genre)
            card.edit_requested.connect(self._edit)
            card.finished.connect(lambda _: self.cards.pop(path, None))
            self.cards[path] = card
        card.show()
        card.raise_()

        def analyse_now() -> None:
            item = host.session.item(path)
            if item is None:
                return
            if item.state is ReviewState.ERROR and item.analysis is None and item.error:
                card.show_item(item)  # the scan already found it unusable
            else:
                self._waiting.add(path)
                if not host.analysis.running:
                    host.analyse([path])
                # else the running batch takes it next, or, if it is too far along,
                # analyses it as soon as it ends (_analyse_waiting)
                elif not host.analysis.prioritise(path):
                    host.notify(f"{path.name} is analysed as soon as the current batch ends")
            host.select_paths([path])

        if host.session.item(path) is None:
            host.add_paths([path], then=analyse_now)
        else:
            analyse_now()
        return card

    def show(self, paths: Iterable[Path]) -> None:
        """Repaint the cards of ``paths``, which changed."""
        for path in set(paths) & self.cards.keys():
            self.cards[path].show_item(self.host.session.item(path))

    def _arrived(self, paths: list[Path]) -> None:
        self._waiting.difference_update(paths)

    def _analyse_waiting(self, cancelled: bool) -> None:
        """Analyse the checked files that the run just ended without (dropped while it could
        no longer take them); a cancelled run leaves them be."""
        waiting, self._waiting = sorted(self._waiting), set()
        if waiting and not cancelled:
            self.host.analyse(waiting)

    def _apply(self, path: Path) -> None:
        host = self.host
        item = host.session.item(path)
        if item is None or (item.state is not ReviewState.ACCEPTED and host.session.accept([item])):
            return  # nothing chosen to write; the card says so
        host.apply_accepted([item])

    def _edit(self, path: Path) -> None:
        self.host.select_paths([path])
        self.host.edit_selected()
