"""What the panels beside the main window (file checks, learning, the kept review) use of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from tagger.audio.excerpt import Depth
    from tagger.review.items import ReviewItem
    from tagger.review.session import ReviewSession
    from tagger.settings import Settings
    from ui.analysis_control import AnalysisControl
    from ui.playback import ExcerptPlayer
    from ui.scan_control import ScanControl
    from ui.status_bar import StatusBar


class PanelHost(Protocol):
    """The main window as ui.check, ui.learn and ui.restored see it: exactly what they use of it."""

    session: ReviewSession
    settings: Settings
    status: StatusBar
    player: ExcerptPlayer
    analysis: AnalysisControl
    scans: ScanControl

    def window(self) -> QWidget:
        """The window that the panels' cards, dialogs and message boxes belong to."""
        ...

    def notify(self, message: str) -> None: ...

    def confirm(self, question: str) -> bool: ...

    def analyse(self, paths: list[Path], depth: Depth | None = None) -> None: ...

    def add_paths(self, paths: list[Path], then: Callable[[], None] | None = None) -> object: ...

    def apply_filter(self) -> None: ...

    def select_paths(self, paths: list[Path]) -> None: ...

    def edit_selected(self) -> None: ...

    def toggle_genre(self, path: Path, genre: str) -> None: ...

    def apply_accepted(self, items: list[ReviewItem] | None = None) -> None: ...
