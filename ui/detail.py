"""The panel beside the table: why the selected track got its genres."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tagger.analysis.analyzer import Analysis, Segment
from tagger.genres.suggestion import CONTEXT_SOURCES, GenreSuggestion, Source, standout_descriptors
from tagger.learning.learned import UNLIKE_LIBRARY
from tagger.review.items import ReviewItem, ReviewState
from ui.charts import ChipStrip, ConfidenceBars, SourceLegend, Timeline
from ui.chips import SOURCE_GLYPHS, evidence_text, item_chips
from ui.library import Column, item_text
from ui.playback import ExcerptPlayer

# A zero-width space after each separator, so that a long path wraps between folders
# rather than in the middle of a name.
BREAK = "\u200b"


def descriptor_text(analysis: Analysis) -> str:
    """The descriptors that stand out, grouped by kind ("mood: calm (80%), dark (62%)")."""
    kinds = standout_descriptors(analysis.descriptors)
    return "\n".join(f"{kind}: {', '.join(f'{d.name} ({d.confidence:.0%})' for d in found)}"
                     for kind, found in kinds.items()) or "none stand out"


def wrappable(path: Path) -> str:
    """``path`` as rich text that may wrap after any folder separator."""
    return html.escape(str(path)).replace("/", "/" + BREAK).replace("\\", "\\" + BREAK)


def track_name(item: ReviewItem) -> str:
    """"Artist – Title", as much of it as the tags name, else the file's name."""
    return " – ".join(x for x in (item.shown_artist, item.title) if x) or item.path.name


def wrapping_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def proposal_heading(item: ReviewItem | None) -> str:
    """The heading over the panel's chips: what Apply would write, or why it writes nothing yet."""
    if item is not None and item.waits_for_analysis:
        return "<b>Will write once the file is analysed</b> <small>(its analysis failed: analyse it again)</small>"
    if item is not None and item.state is ReviewState.ERROR:
        return "<b>Would write nothing</b> <small>(this file failed)</small>"
    return "<b>Would write</b> <small>(click a genre to choose it or not)</small>"


def vertical_scroll(content: QWidget, panel: QWidget) -> QScrollArea:
    """Fill ``panel`` with ``content``, which scrolls up and down but wraps to the width:
    a side panel taller than its dock, when the window is short or narrow, scrolls rather
    than squeezing its parts onto each other. ``content`` has its layout already."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes straight to what it holds; it scrolls to them
    scroll.viewport().setBackgroundRole(QPalette.ColorRole.Window)
    scroll.setWidget(content)
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    return scroll


TIMELINE_HEADING = "<b>Timeline</b> (each analysed segment, coloured by its top genre)"


def timeline_heading(analysis: Analysis | None, genres: Sequence[GenreSuggestion]) -> str:
    """What the timeline shows. Its segments are ranked by the bundled vocabulary alone:
    where the track's genres also rest on the learned model or on its album, artist or
    folders, it says so, lest a person read the segments as the reasons for those genres."""
    learned = analysis is not None and analysis.model == Source.LEARNED
    sources = {source for g in genres for source, _ in (g.evidence or ((g.source, g.confidence),))}
    context = bool(sources & set(CONTEXT_SOURCES))
    if not learned and not context:
        return TIMELINE_HEADING
    others = " and ".join(x for x, on in (("your learned genres", learned),
                                          ("the album, artist and folders", context)) if on)
    return ("<b>Timeline (bundled vocabulary)</b> (each analysed segment, coloured by its top genre in the bundled "
            f"vocabulary; {others} speak only for the whole track)")


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
        self.descriptors = wrapping_label()
        self.play_button = QPushButton("Play excerpt")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self._play)
        self.playback_note = wrapping_label()  # beside the button: why it cannot play
        self.playback_note.setTextFormat(Qt.TextFormat.PlainText)
        self.playback_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        if player.devices is not None:
            player.devices.audioOutputsChanged.connect(self._show_playback)
        player.failed.connect(self._show_failure)
        self.timeline.segment_clicked.connect(self._pick)
        self.timeline.segment_selected.connect(self._select)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(wrapping_label("<b>Top genres</b>"))
        layout.addWidget(self.bars)
        self.timeline_label = wrapping_label(TIMELINE_HEADING)
        layout.addWidget(self.timeline_label)
        layout.addWidget(self.timeline)
        layout.addWidget(wrapping_label("<b>Descriptors</b>"))
        layout.addWidget(self.descriptors)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.playback_note, 1)
        layout.addLayout(buttons)
        self._show_playback()

    def show_analysis(self, path: Path | None, analysis: Analysis | None,
                      genres: Sequence[GenreSuggestion] | None = None) -> None:
        """Show ``analysis``; the bars show ``genres``, the track's ranked suggestions
        (where they add its album, artist and folders to the audio), else the analysis's own."""
        self.path = path
        ranked = (analysis.genres if genres is None else list(genres)) if analysis is not None else []
        self.bars.set_analysis(analysis, ranked)
        self.timeline.set_analysis(analysis, ranked)
        self.timeline_label.setText(timeline_heading(analysis, ranked[:ConfidenceBars.ROWS]))
        self.descriptors.setText(descriptor_text(analysis) if analysis is not None else "")
        self.segment = analysis.segments[0] if analysis and analysis.segments else None
        self._show_playback()

    def _show_playback(self) -> None:
        """Enable Play excerpt where a segment can play, else say beside it why it cannot."""
        reason = self.player.unavailable
        self.play_button.setEnabled(self.segment is not None and reason is None)
        self.play_button.setToolTip(reason or "Play the analysed segment picked on the timeline")
        self.playback_note.setText(reason or "")
        self.playback_note.setVisible(reason is not None)

    def _show_failure(self, reason: str) -> None:
        self.playback_note.setText(reason)
        self.playback_note.setVisible(True)

    def _select(self, segment: Segment) -> None:
        self.segment = segment  # what Play excerpt plays next

    def _pick(self, segment: Segment) -> None:
        self._select(segment)
        self._play()

    def _play(self) -> None:
        if self.path is not None and self.segment is not None:
            self.player.play(self.path, self.segment)


class DetailPanel(QWidget):
    """One track: its tags, what it would write (a click on a genre chooses or
    unchooses it) and the analysis behind that. Everything wraps, so the panel
    can be narrow."""

    toggled_genre = Signal(Path, str)  # a click on a chip: the window toggles that genre of that row

    def __init__(self, player: ExcerptPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.heading = wrapping_label()
        self.state = wrapping_label()
        self.state.setTextFormat(Qt.TextFormat.PlainText)  # an error message may hold "<"
        self.proposal_label = wrapping_label(proposal_heading(None))
        self.chips = ChipStrip()
        self.chips.toggled.connect(self._chip_toggled)
        self.legend = SourceLegend()
        self.evidence_label = wrapping_label("<b>What each source gave</b>")
        self.evidence = wrapping_label()
        self.evidence.setTextFormat(Qt.TextFormat.PlainText)  # genre names are the person's own text
        self.evidence.setToolTip("What each kind of evidence said of each genre. They combine as independent "
                                 "chances of being right, so two that agree give more than either alone.")
        self.view = AnalysisView(player)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.addWidget(self.heading)
        layout.addWidget(self.state)
        layout.addWidget(self.proposal_label)
        layout.addWidget(self.chips)
        layout.addWidget(self.legend)
        layout.addWidget(self.evidence_label)
        layout.addWidget(self.evidence)
        layout.addWidget(self.view)
        layout.addStretch()
        self.scroll = vertical_scroll(self.content, self)
        self.show_item(None)

    def show_item(self, item: ReviewItem | None) -> None:
        """Show ``item``, or with None nothing (the row went away, or is filtered out)."""
        self.path = None if item is None else item.path
        proposing = item is not None and (bool(item.proposed) or item.analysis is not None)
        for widget in (self.proposal_label, self.chips, self.legend):
            widget.setVisible(proposing)
        self.proposal_label.setText(proposal_heading(item))
        chips = item_chips(item) if item is not None else []
        self.chips.set_chips(chips)
        self.legend.set_sources([c.source for c in chips])
        self.legend.setVisible(proposing and bool(self.legend.sources))
        lines = evidence_lines(item) if item is not None else []
        self.evidence.setText("\n".join(lines))
        for widget in (self.evidence_label, self.evidence):
            widget.setVisible(bool(lines))
        # A click may choose or unchoose a genre wherever ReviewItem.toggle allows it.
        self.chips.setToggleable(item is not None and item.state not in (ReviewState.ANALYSING, ReviewState.ERROR))
        # Without an analysis the charts would only say so; the state line says why instead.
        self.view.setVisible(item is not None and item.analysis is not None)
        if item is None:
            self.heading.setText("<i>Select a track, or an album, to see why it got its genres.</i>")
            self.state.setText("")
            self.view.show_analysis(None, None)
            return
        self.heading.setText(f"<b>{html.escape(track_name(item))}</b><br><small>{wrappable(item.path)}</small>")
        self.state.setText("\n".join(state_lines(item)))
        self.view.show_analysis(item.path, item.analysis, item.suggestions)

    def _chip_toggled(self, genre: str) -> None:
        if self.path is not None:
            self.toggled_genre.emit(self.path, genre)


def evidence_lines(item: ReviewItem) -> list[str]:
    """Per genre the row shows, what each source gave it ("◆ Jazz 94% — album mates' tags
    85%, your genres 60%"); first, where the learned model found the file unlike the
    library, that. Nothing for a row without an analysis."""
    if item.analysis is None:
        return []
    lines = [UNLIKE_LIBRARY[:1].upper() + UNLIKE_LIBRARY[1:] + "."] if item.analysis.unlike_library else []
    if item.album_genres:
        return lines + ["These are the genres its album agreed on: Group by Album shows how its tracks voted."]
    for candidate in item.candidates():
        if candidate.suggestion is not None:
            lines.append(f"{SOURCE_GLYPHS.get(candidate.suggestion.source, '')} {evidence_text(candidate.suggestion)}")
    return lines


def state_lines(item: ReviewItem) -> list[str]:
    """Where the row stands: its state (or its error), its genres now, and how it was analysed."""
    if item.state is ReviewState.ERROR:
        lines = [f"Error: {item.error}"]
    elif item.analysis is None and item.state is ReviewState.NEW:
        lines = ["Not analysed yet"]
    else:
        lines = [f"Status: {item_text(item, Column.STATUS)}"]
    lines.append("Current genres: " + (", ".join(item.current_genres) or "none"))
    if item.analysis is not None:
        a = item.analysis
        lines.append(f"Analysed {a.patches_analysed} of {a.total_patches} segments ({a.depth.value})"
                     + (", from the cache" if a.cached else ""))
    if item.state is ReviewState.UNSURE:
        lines.append("No genre reached the threshold: click one to choose it")
    return lines
