"""Render the screenshots of the desktop app in the README and docs/ from the demo samples.

Run by hand: ``python packaging/screenshots.py [--out DIR]`` (default: docs/screenshots).
The app runs offscreen (unless QT_QPA_PLATFORM says otherwise) with fresh config,
cache and data folders, so the user's settings, analysis cache and undo journal are
untouched. The demo samples are copied to a temporary folder and given artist, title
and album tags from their ATTRIBUTION.md; the main window scans and analyses them,
one row is accepted and one edited, and the window is saved as main-window.png. Then
one sample is checked on its own and its card is saved as check-card.png.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120.0
SIZE = (1280, 720)
# | `name` | Artist, "Title" (Album soundtrack), licence | excerpt |
ATTRIBUTION_ROW = re.compile(r'^\|\s*`(?P<file>[^`]+)`\s*\|\s*(?P<artist>[^|"]+?),\s*"(?P<title>[^"]+)"'
                             r'\s*\((?P<album>[^)]+)\)')


def attributions(samples: Path) -> dict[str, dict[str, str]]:
    """Artist, title and album per sample file name, from the samples' ATTRIBUTION.md."""
    tags = {}
    for line in (samples / "ATTRIBUTION.md").read_text(encoding="utf-8").splitlines():
        match = ATTRIBUTION_ROW.match(line)
        if match:
            album = re.sub(r"\s+soundtrack$", "", match["album"].strip())
            tags[match["file"]] = {"artist": match["artist"].strip(), "title": match["title"].strip(), "album": album}
    return tags


def tagged_copies(samples: Path, folder: Path) -> list[Path]:
    """Copy the demo samples into ``folder`` and tag them as a real library would be."""
    import mutagen

    folder.mkdir(parents=True, exist_ok=True)
    known = attributions(samples)
    copies = []
    for source in sorted(samples.iterdir()):
        if source.suffix == ".md" or not source.is_file():
            continue
        target = folder / source.name
        shutil.copyfile(source, target)
        audio = mutagen.File(target, easy=True)
        if audio is None:
            raise SystemExit(f"mutagen cannot open {target}")
        if audio.tags is None:  # an MP3 without an ID3 header
            audio.add_tags()
        for key, value in known.get(source.name, {"title": source.stem}).items():
            audio[key] = value
        audio.save()
        copies.append(target)
    if not copies:
        raise SystemExit(f"no demo samples in {samples}")
    return copies


def wait_until(app, done: Callable[[], bool], what: str, timeout_s: float = TIMEOUT_S) -> None:
    """Pump the event loop until done(); give up after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.3) -> None:
    """Let queued signals (a job's last results, its finished signal) and repaints arrive."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def save(widget, path: Path) -> None:
    pixmap = widget.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG", 0):  # quality 0: the strongest PNG compression
        raise SystemExit(f"could not save {path}")
    print(f"{path}: {pixmap.width()}x{pixmap.height()}, {path.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots",
                        help="where to write the PNGs (default: %(default)s)")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    root = Path(tempfile.mkdtemp(prefix="genre-tagger-screenshots-"))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):  # before tagger or ui reads them
        os.environ[name] = str(root / name.lower())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    try:
        shoot(out, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def shoot(out: Path, root: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from tagger.resources import samples_dir

    library = root / "Music" / "Demo"
    copies = tagged_copies(samples_dir(), library)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Genre Tagger")
    from ui.main_window import MainWindow

    w = MainWindow()
    w.resize(*SIZE)
    w.show()
    settle(app)

    w.add_paths([library])
    wait_until(app, lambda: not w.scans.running, "the scan")
    if w.model.rowCount() != len(copies):
        raise SystemExit(f"the scan found {w.model.rowCount()} of {len(copies)} samples")
    w.analyse_all()
    wait_until(app, lambda: w.analysis.job is not None and not w.analysis.running, "the analysis")
    settle(app)
    missing = [i.path.name for i in w.session.items if i.analysis is None]
    if missing:
        raise SystemExit(f"not analysed: {', '.join(missing)}")

    w.table.selectRow(0)
    w.accept_selected()
    w.session.edit([w.model.item_at(1)], ["Folk", "World"])
    w.table.selectRow(0)  # the detail panel shows the accepted row's bars and timeline
    settle(app)
    save(w, out / "main-window.png")

    # The single-file check: a row left as suggested, so its card can offer to apply.
    path = w.model.item_at(2).path
    card = w.check_file(path)

    def shown() -> bool:
        item = w.session.item(path)
        return (not w.analysis.running and item is not None
                and item.state.value not in ("new", "analysing") and card.summary.text() != "Analysing…")

    wait_until(app, shown, "the check card's result")
    settle(app)
    save(card, out / "check-card.png")
    card.close()
    w.close()
    settle(app, 0.1)


if __name__ == "__main__":
    main()
