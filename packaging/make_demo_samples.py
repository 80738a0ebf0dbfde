"""Cut the bundled demo samples from CC-BY-SA tracks in ../shared/music.

Run by hand: ``python packaging/make_demo_samples.py [SHARED_MUSIC_DIR]``.
Each excerpt is 20 s, re-encoded in a different container so that the demo also
exercises the decoders. Attribution is written next to the samples.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "resources" / "samples"

# (source relative to shared/music, start second, output name, container, subtype, author, licence)
EXCERPTS = [
    ("singularity-music/Awakening.ogg", 60.0, "mccracken-awakening.ogg", "OGG", "VORBIS",
     "Max McCracken, \"Awakening\" (Endgame: Singularity soundtrack)", "CC-BY-SA-3.0"),
    ("hyperrogue-music/hr-savino-caribbean.ogg", 20.0, "savino-caribbean.mp3", "MP3", "MPEG_LAYER_III",
     "Will Savino, \"Caribbean\" (HyperRogue soundtrack)", "CC-BY-SA-3.0"),
    ("hyperrogue-music/hr-domina-hunting.ogg", 30.0, "domina-hunting.opus", "OGG", "OPUS",
     "Lincoln Domina, \"Hunting\" (HyperRogue soundtrack)", "CC-BY-SA-3.0"),
]
LENGTH_S = 20.0


def main() -> None:
    music = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "music"
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Demo samples",
        "",
        "20-second excerpts, re-encoded, of tracks licensed under the Creative Commons",
        "Attribution-ShareAlike 3.0 licence (https://creativecommons.org/licenses/by-sa/3.0/).",
        "The excerpts are shared under the same licence. They were taken from the Debian",
        "packages singularity-music and hyperrogue-music; see those packages' copyright files.",
        "",
        "| file | source | excerpt |",
        "| --- | --- | --- |",
    ]
    for source, start, name, container, subtype, author, licence in EXCERPTS:
        with sf.SoundFile(music / source) as f:
            f.seek(int(start * f.samplerate))
            audio = f.read(int(LENGTH_S * f.samplerate), dtype="float32", always_2d=True)
            rate = f.samplerate
        fade = np.linspace(0.0, 1.0, int(0.5 * rate), dtype=np.float32)[:, None]
        audio[: len(fade)] *= fade
        audio[-len(fade):] *= fade[::-1]
        if subtype == "OPUS" and rate != 48000:
            # libopus only encodes at 48 kHz and its divisors.
            audio, rate = soxr.resample(audio, rate, 48000).astype(np.float32), 48000
        sf.write(OUT / name, audio, rate, format=container, subtype=subtype)
        lines.append(f"| `{name}` | {author}, {licence} | {start:.0f}–{start + LENGTH_S:.0f} s |")
    (OUT / "ATTRIBUTION.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
