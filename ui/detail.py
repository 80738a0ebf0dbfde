"""The panel beside the table: why the selected track got its genres."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from tagger.analysis import Analysis, Segment
from tagger.review import ReviewItem
from ui.charts import ChipStrip, ConfidenceBars, SourceLegend, Timeline
from ui.library import item_chips

log = logging.getLogger(__name__)


def descriptor_text(analysis: Analysis, limit: int = 3, least: float = 0.5) -> str:
    """Descriptors grouped by kind ("mood: calm, dark"), the confident ones only."""
    kinds: dict[str, list[str]] = {}
    for d in analysis.descriptors:
        if d.confidence >= least and len(kinds.setdefault(d.kind, [])) < limit:
            kinds[d.kind].append(f"{d.name} ({d.confidence:.0%})")
    return "\n".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items() if names)


class ExcerptPlayer:
    """Plays one analysed segment of a file through QtMultimedia, where it loads."""

    def __init__(self) -> None:
        self.unavailable: str | None = None
        self._player = self._output = None
        self._stop_ms = 0
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        except ImportError as e:  # QtMultimedia needs system audio libraries (PulseAudio, ALSA)
            self.unavailable = f"playback is unavailable: {e}"
            return
        self._player = QMediaPlayer()
        self._output = QAudioOutput()
        self._player.setAudioOutput(self._output)
        self._player.positionChanged.connect(self._stop_at_end)

    def play(self, path: Path, segment: Segment) -> None:
        if self._player is None:
            return
        self._player.stop()
        self._player.setSource(QUrl.fromLocalFile(str(path)))
        self._player.setPosition(int(segment.start_s * 1000))
        self._stop_ms = int(segment.end_s * 1000)
        self._player.play()

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()

    def _stop_at_end(self, position_ms: int) -> None:
        if position_ms >= self._stop_ms:
            self._player.stop()


class AnalysisView(QWidget):
    """Confidence bars, timeline, descriptors and a play button for one analysis;
    the detail panel and the drop-check card both show one."""

    def __init__(self, player: ExcerptPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.path: Path | None = None
        self.segment: Segment | None = None
        self.bars = ConfidenceBars()
        self.timeline = Timeline()
        self.descriptors = QLabel()
        self.descriptors.setWordWrap(True)
        self.play_button = QPushButton("Play excerpt")
        self.play_button.setToolTip(player.unavailable or "Play the analysed segment picked on the timeline")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self._play)
        self.timeline.segment_clicked.connect(self._pick)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Top genres</b>"))
        layout.addWidget(self.bars)
        layout.addWidget(QLabel("<b>Timeline</b> (each analysed segment, coloured by its top genre)"))
        layout.addWidget(self.timeline)
        layout.addWidget(QLabel("<b>Descriptors</b>"))
        layout.addWidget(self.descriptors)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addStretch()
        layout.addLayout(buttons)

    def show_analysis(self, path: Path | None, analysis: Analysis | None) -> None:
        self.path = path
        self.bars.set_analysis(analysis)
        self.timeline.set_analysis(analysis)
        self.descriptors.setText(descriptor_text(analysis) if analysis else "")
        self.segment = analysis.segments[0] if analysis and analysis.segments else None
        self.play_button.setEnabled(self.segment is not None and self.player.unavailable is None)

    def _pick(self, segment: Segment) -> None:
        self.segment = segment
        self._play()

    def _play(self) -> None:
        if self.path is not None and self.segment is not None:
            self.player.play(self.path, self.segment)


class DetailPanel(QWidget):
    def __init__(self, player: ExcerptPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.proposal_label = QLabel("<b>Would write</b>")
        self.chips = ChipStrip()
        self.legend = SourceLegend()
        self.view = AnalysisView(player)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.state)
        layout.addWidget(self.proposal_label)
        layout.addWidget(self.chips)
        layout.addWidget(self.legend)
        layout.addWidget(self.view)
        layout.addStretch()
        self.show_item(None)

    def show_item(self, item: ReviewItem | None) -> None:
        proposing = item is not None and (bool(item.proposed) or item.analysis is not None)
        for widget in (self.proposal_label, self.chips, self.legend):
            widget.setVisible(proposing)
        self.chips.set_chips(item_chips(item) if item is not None else [])
        if item is None:
            self.heading.setText("<i>Select a track, or an album, to see why it got its genres.</i>")
            self.state.setText("")
            self.view.show_analysis(None, None)
            return
        name = " – ".join(x for x in (item.artist, item.title) if x) or item.path.name
        self.heading.setText(f"<b>{name}</b><br><small>{item.path}</small>")
        lines = [f"Status: {item.state.value}" + (f" — {item.error}" if item.error else "")]
        lines.append("Current genres: " + (", ".join(item.current_genres) or "none"))
        if item.analysis is not None:
            a = item.analysis
            lines.append(f"Analysed {a.patches_analysed} of {a.total_patches} segments ({a.depth.value})"
                         + (", from the cache" if a.cached else ""))
        self.state.setText("\n".join(lines))
        self.view.show_analysis(item.path, item.analysis)
