"""Export the app icon, resources/icons/genre-tagger.svg, to the PNG sizes of the hicolor theme.

Run by hand after changing the SVG: ``python packaging/export_icons.py``; commit the PNGs.
They go to ``resources/icons/hicolor/<N>x<N>/apps/genre-tagger.png``, the layout of
``$XDG_DATA_DIRS/icons/hicolor``, so installers copy the tree as it is. The SVG stays
the one copy at resources/icons/genre-tagger.svg, where the app loads its window icon
from: installers put it at hicolor/scalable/apps/ themselves, and a second copy in the
tree could be edited without the other.

Qt's SVG renderer (QtSvg, in PySide6) draws them: it is already a dependency, and it is
the renderer that draws the window icon, so the PNGs look like the app's own icon.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SVG = REPO / "resources" / "icons" / "genre-tagger.svg"
HICOLOR = REPO / "resources" / "icons" / "hicolor"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICON_NAME = "genre-tagger"


def png_path(size: int, theme: Path = HICOLOR) -> Path:
    return theme / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def export(svg: Path = SVG, theme: Path = HICOLOR, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Render ``svg`` at each size into ``theme``; the paths written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841 (QPainter needs one)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"Qt cannot read {svg}")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        path = png_path(size, theme)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG", 0):  # quality 0: the strongest PNG compression
            raise SystemExit(f"could not write {path}")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HICOLOR, help="the hicolor folder to fill (default: %(default)s)")
    args = parser.parse_args()
    for path in export(theme=args.out):
        print(f"{path.relative_to(args.out)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
