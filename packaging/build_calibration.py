"""Build resources/models/calibration.json: each tag's level on a reference set of music.

Run by hand after converting the models, or to widen the reference set:

    python packaging/build_calibration.py ../shared/music [MORE_FOLDERS...]

Each reference track is analysed at full depth; a tag's reference probability is the
median over tracks of the track's mean probability. See tagger/genres.py for how
the reference is used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tagger.analysis import Analyzer
from tagger.excerpt import Depth
from tagger.genres import Calibration
from tagger.model import ModelSet
from tagger.resources import models_dir
from tagger.scan import scan


def main(folders: list[str]) -> None:
    if not folders:
        raise SystemExit(__doc__)
    # The fp32 models: the int8 variants share their calibration.
    models = ModelSet(device="cpu", threads=1, precision="fp32")
    analyzer = Analyzer(models=models, calibration=Calibration.neutral(models.infos))
    paths = [event.path for folder in folders for event in scan([Path(folder)]) if event.path]
    per_track: dict[str, list[np.ndarray]] = {info.name: [] for info in models.infos}
    for result in analyzer.analyse_many(paths, Depth.FULL):
        if not result.ok or not result.analysis.music_detected:
            print(f"skipped {result.path}: {result.error or 'no music'}", file=sys.stderr)
            continue
        for name, probabilities in result.analysis.tag_probabilities.items():
            per_track[name].append(probabilities)
        print(f"analysed {result.path}", file=sys.stderr)
    doc = {
        "about": "Median track-level tag probability over the reference set; see tagger/genres.py.",
        "reference_set": f"{len(per_track[models.infos[0].name])} tracks from {', '.join(Path(f).name for f in folders)}",
        "models": {
            info.name: {
                "model_version": info.version,
                "reference": {
                    label: round(float(value), 6)
                    for label, value in zip(info.labels, np.median(np.stack(per_track[info.name]), axis=0))
                },
            }
            for info in models.infos
        },
    }
    out = models_dir() / "calibration.json"
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}: {doc['reference_set']}")


if __name__ == "__main__":
    main(sys.argv[1:])
