"""Build resources/models/calibration.json: each tag's level on a reference set of music.

Run by hand after converting the models, or to widen the reference set:

    python packaging/build_calibration.py [--transcode mp3:96k,opus:48k [--transcode-in FOLDER]...]
                                          [--patches N] [--cache FILE] [--probabilities OUT.npz]
                                          FOLDER [FOLDER...]

Every audio file under the folders is analysed with the fp32 models (the int8 variants
share their calibration): at full depth, or with ``--patches N`` on N patches spread
over the body of each track as ``suggest --depth fast`` picks them, which is quicker
for a large set. ``--transcode`` also re-encodes each file (or each under the
``--transcode-in`` folders) with the given codecs and bitrates (decoded as the app decodes
it, mixed to mono, encoded with PyAV into a temporary folder) and analyses those too: a
transcode is the same music, so it is averaged into its source track rather than counted
as another track; what it adds is robustness to the codec, not weight. A tag's reference
probability is the median over tracks of the track's mean probability.

``--cache`` keeps the raw model outputs in an analysis cache file, so that a rebuild
over the same music is quick; ``--probabilities`` saves every track's probabilities,
for studying the reference (``np.load(..., allow_pickle=True)``).

The reference as built is what the set gives, near-zero levels included: the scorer
clips it to ``REFERENCE_RANGE`` (tagger/analysis/scoring.py), which is where the policy lives.
See tagger/analysis/scoring.py for how the reference is used, and
``benchmarks/base_model_top_genres.py`` to check its effect on real music.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tagger.analysis.analyzer import Analyzer
from tagger.analysis.models import ModelSet
from tagger.analysis.pipeline import AnalysisPipeline
from tagger.analysis.scoring import Calibration
from tagger.audio.excerpt import Depth
from tagger.files.scan import scan
from tagger.resources import models_dir

CONTAINERS = {"mp3": ("mp3", "libmp3lame"), "opus": ("opus", "libopus"), "ogg": ("ogg", "vorbis"),
              "m4a": ("mp4", "aac"), "flac": ("flac", "flac")}


def transcode(source: Path, target: Path, codec: str, bitrate: int) -> None:
    """``source``, decoded as the app decodes it (mono), re-encoded as ``codec`` at
    ``bitrate`` bits/s (48 kHz for Opus, else its own rate)."""
    import av

    from tagger.audio.decode import open_audio

    container_format, encoder = CONTAINERS[codec]
    reader = open_audio(source)
    try:
        source_rate = reader.info.sample_rate
        audio = reader.read(0.0, reader.info.duration_s)
    finally:
        reader.close()
    rate = 48000 if codec == "opus" else source_rate
    with av.open(str(target), "w", format=container_format) as out:
        stream = out.add_stream(encoder, rate=rate)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        for start in range(0, len(audio), source_rate):
            frame = av.AudioFrame.from_ndarray(audio[None, start: start + source_rate], format="flt", layout="mono")
            frame.sample_rate = source_rate
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))


def parse_transcodes(spec: str) -> list[tuple[str, int]]:
    """``mp3:64k,opus:32k`` -> [("mp3", 64000), ("opus", 32000)]."""
    result = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        codec, _, rate = item.partition(":")
        if codec not in CONTAINERS or not rate.rstrip("kK").isdigit():
            raise SystemExit(f"--transcode: {item!r} is not CODEC:BITRATE with CODEC one of {sorted(CONTAINERS)}")
        result.append((codec, int(rate.rstrip("kK")) * (1000 if rate[-1] in "kK" else 1)))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--transcode", default="", metavar="CODEC:BITRATE,...",
                        help=f"also analyse each track re-encoded so (codecs: {', '.join(CONTAINERS)})")
    parser.add_argument("--transcode-in", type=Path, action="append", default=[], metavar="FOLDER",
                        help="transcode only the files under these folders (default: all)")
    parser.add_argument("--patches", type=int, metavar="N",
                        help="analyse N patches spread over each track instead of every patch")
    parser.add_argument("--cache", type=Path, help="analysis cache file for the raw model outputs")
    parser.add_argument("--probabilities", type=Path, help="save each track's probabilities here (.npz)")
    parser.add_argument("--out", type=Path, default=models_dir() / "calibration.json")
    args = parser.parse_args(argv)
    transcodes = parse_transcodes(args.transcode)

    models = ModelSet(device="cpu", threads=1, precision="fp32")
    cache = None
    if args.cache:
        from tagger.analysis.cache import AnalysisCache

        cache = AnalysisCache(args.cache)
    analyzer = Analyzer(models=models, calibration=Calibration.neutral(models.infos), cache=cache,
                        **({"fast_patches": args.patches} if args.patches else {}))
    depth = Depth.FAST if args.patches else Depth.FULL
    sources = [event.path for folder in args.folders for event in scan([folder]) if event.path]
    with tempfile.TemporaryDirectory(prefix="calibration-transcodes-") as tmp:
        group = {path: path for path in sources}
        jobs = {
            (source, Path(tmp) / f"{index:04d}-{source.stem}.{bitrate // 1000}k.{codec}"): (codec, bitrate)
            for index, source in enumerate(sources) for codec, bitrate in transcodes
            if not args.transcode_in or any(source.is_relative_to(folder) for folder in args.transcode_in)
        }
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            done = {pool.submit(transcode, source, target, *spec): (source, target)
                    for (source, target), spec in jobs.items()}
            for future, (source, target) in done.items():
                try:
                    future.result()
                except Exception as e:  # a source that cannot be re-encoded is still analysed as it is
                    print(f"not transcoded {source} to {target.suffix}: {e}", file=sys.stderr)
                    continue
                group[target] = source
        per_group: dict[Path, list[dict[str, np.ndarray]]] = defaultdict(list)
        for result in AnalysisPipeline(analyzer, depth).results(list(group)):
            if not result.ok or not result.analysis.music_detected:
                print(f"skipped {result.path}: {result.error or 'no music'}", file=sys.stderr)
                continue
            per_group[group[result.path]].append(result.analysis.tag_probabilities)
            print(f"analysed {result.path}", file=sys.stderr)
    tracks = [source for source in sources if source in per_group]
    track_level = {
        info.name: np.stack([np.mean([p[info.name] for p in per_group[t]], axis=0) for t in tracks])
        for info in models.infos
    }
    if args.probabilities:
        np.savez(args.probabilities, paths=np.array([str(t) for t in tracks]),
                 labels=np.array({i.name: list(i.labels) for i in models.infos}, dtype=object), **track_level)
    codecs = ""
    if transcodes:
        which = ", ".join(f.name for f in args.transcode_in) if args.transcode_in else "each"
        codecs = f" ({which} also as {', '.join(f'{c} {b // 1000} kb/s' for c, b in transcodes)})"
    doc = {
        "about": "Median track-level tag probability over the reference set (fp32 models); "
                 "the scorer clips it to REFERENCE_RANGE. See tagger/analysis/scoring.py.",
        "reference_set": f"{len(tracks)} tracks from {', '.join(f.name for f in args.folders)}{codecs}, "
                         + (f"{args.patches} patches each" if args.patches else "full depth"),
        "models": {
            info.name: {
                "model_version": info.version,
                "reference": {
                    label: round(float(value), 6)
                    for label, value in zip(info.labels, np.median(track_level[info.name], axis=0))
                },
            }
            for info in models.infos
        },
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {doc['reference_set']}")


if __name__ == "__main__":
    main()
