"""fp32 against int8 on this CPU: speed, and how far int8's outputs and genres move.

    python benchmarks/precision.py [FOLDER ...] [--patches 6] [--passes 5]

Every track in the folders (default: the demo samples and ../shared/music) is cut into
its first ``--patches`` patches at fast depth, as ``suggest`` analyses it by default, and
run through the bundled fp32 and int8 models on one thread. Prints the CPU, whether it has
int8 dot-product instructions, what ``--precision auto`` picks on it, and then:
- milliseconds per patch per model (median of ``--passes`` timed passes over every
  patch, after a warm-up pass), wall and CPU time;
- the largest difference of tag probabilities and of embeddings between int8 and fp32,
  per model, over every patch;
- the largest difference of a genre confidence between int8 and fp32 (track level, as
  a file's genres are ranked), and on how many tracks the top genre is the same.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def track_patches(folders: list[Path], count: int, front_end) -> dict[Path, np.ndarray]:
    from tagger.audio.decode import open_audio
    from tagger.audio.excerpt import Depth, read_excerpt
    from tagger.audio.features import LogMel
    from tagger.files.scan import scan

    log_mel, tracks = LogMel(front_end), {}
    for event in scan(folders):
        reader = open_audio(event.path)
        try:
            regions = read_excerpt(reader, front_end, Depth.FAST, count).regions
            tracks[event.path] = np.concatenate([log_mel.patches(r.audio, r.n_patches) for r in regions])
        finally:
            reader.close()
    return tracks


def ms_per_patch(models, patches: np.ndarray, passes: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds per patch per model, batches of 2 as the analyzer runs them."""
    walls, cpus = [], []
    for attempt in range(passes + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        for first in range(0, len(patches), 2):
            models.run(patches[first: first + 2])
        if attempt:  # the first pass warms up the sessions' memory arenas
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - started_cpu)
    per = len(patches) * len(models.models) / 1000
    return statistics.median(walls) / per, statistics.median(cpus) / per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--patches", type=int, default=6, help="patches per track, fast depth (default 6)")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import onnxruntime as ort

    from tagger.analysis.models import ModelSet
    from tagger.analysis.precision import INT8_DOT_PRODUCT_FLAGS, auto_cpu_precision, read_cpu
    from tagger.analysis.scoring import Calibration, GenreScorer
    from tagger.genres.taxonomy import Taxonomy
    from tagger.resources import models_dir, samples_dir

    folders = args.folders or [p for p in (samples_dir(), REPO.parent / "shared" / "music") if p.is_dir()]
    cpu = read_cpu()
    print(f"CPU: {cpu.model}; int8 dot-product flags: {sorted(cpu.flags & INT8_DOT_PRODUCT_FLAGS) or 'none'}; "
          f"onnxruntime {ort.__version__}")
    print(f"--precision auto picks {auto_cpu_precision(models_dir())} here")
    fp32 = ModelSet(device="cpu", threads=1, precision="fp32")
    int8 = ModelSet(device="cpu", threads=1, precision="int8")
    tracks = track_patches(folders, args.patches, fp32.front_end)
    every = np.concatenate(list(tracks.values()))
    print(f"{len(tracks)} tracks, {len(every)} patches ({args.patches} per track at fast depth) "
          f"from {', '.join(map(str, folders))}")

    print("\nms per patch per model, one thread (wall / CPU):")
    speeds = {}
    for name, models in (("fp32", fp32), ("int8", int8)):
        speeds[name] = ms_per_patch(models, every, args.passes)
        print(f"  {name}: {speeds[name][0]:.1f} / {speeds[name][1]:.1f}")
    print(f"  int8 is {speeds['fp32'][1] / speeds['int8'][1]:.2f}x fp32's speed (CPU time)")

    scorer = GenreScorer(Taxonomy.load(), Calibration.load(fp32.infos), fp32.infos)
    probability: dict[str, float] = {}
    embedding: dict[str, float] = {}
    confidence, same_top, worst = 0.0, 0, ""
    for path, patches in tracks.items():
        exact, quantized = fp32.run(patches), int8.run(patches)
        for name in exact:
            probability[name] = max(probability.get(name, 0.0),
                                    float(np.abs(quantized[name].probabilities - exact[name].probabilities).max()))
            embedding[name] = max(embedding.get(name, 0.0),
                                  float(np.abs(quantized[name].embeddings - exact[name].embeddings).max()))
        exact_genres = scorer.genre_confidences({n: o.probabilities.mean(axis=0) for n, o in exact.items()})
        int8_genres = scorer.genre_confidences({n: o.probabilities.mean(axis=0) for n, o in quantized.items()})
        moved = float(np.abs(int8_genres - exact_genres).max())
        if moved > confidence:
            confidence, worst = moved, path.name
        same_top += int(np.argmax(int8_genres) == np.argmax(exact_genres))

    print("\nint8 against fp32:")
    for name in probability:
        print(f"  {name}: tag probabilities max |diff| {probability[name]:.4f}, embeddings {embedding[name]:.4f}")
    print(f"  genre confidences max |diff| {confidence:.4f} ({worst}); same top genre on {same_top} of {len(tracks)}")


if __name__ == "__main__":
    main()
