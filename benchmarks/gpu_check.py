"""The CUDA path: tracks/s on the GPU against the CPU, and whether their outputs agree.

    pip install '.[gpu]' && python benchmarks/gpu_check.py [FOLDER] [--tolerance 1e-3]

FOLDER defaults to ../shared/music, or the bundled demo samples where that is absent.
Both runs use the fp32 models (the int8 ones are for CPUs) at fast depth, through the
same pipeline as the app, each after a warm-up file: fast depth, because the adaptive
depth's patch choice follows the outputs, so tiny differences could compare different
patches. It then times the models alone on the GPU at growing batch sizes, to find the
one that saturates it. Exits 1 if no CUDA provider starts, or if any tag probability
differs from the CPU's by more than the tolerance.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(device: str, files: list[Path]):
    from tagger.analysis.analyzer import Analyzer
    from tagger.analysis.pipeline import AnalysisPipeline
    from tagger.audio.excerpt import Depth

    analyzer = Analyzer(device=device, precision="fp32")
    analyzer.analyse(files[0], Depth.FAST)  # warm-up: CUDA kernels and memory arenas
    started = time.perf_counter()
    outputs = {r.path: r.analysis.patch_probabilities
               for r in AnalysisPipeline(analyzer, Depth.FAST).results(files) if r.ok}
    return analyzer, len(outputs) / (time.perf_counter() - started), outputs


def saturation(analyzer, batches=(8, 32, 128, 256, 512, 1024)) -> None:
    """Patches per second through both models at each batch size: where it stops growing
    is the batch that saturates the GPU (the pipeline sends GPU_BATCH)."""
    import numpy as np

    from tagger.analysis.pipeline import GPU_BATCH

    fe = analyzer.front_end
    rng = np.random.default_rng(0)
    for batch in batches:
        patches = rng.uniform(0, 4, (batch, fe.patch_frames, fe.n_mels)).astype(np.float32)
        analyzer.models.run(patches)  # warm-up at this shape
        started, runs = time.perf_counter(), 0
        while time.perf_counter() - started < 2.0:
            analyzer.models.run(patches)
            runs += 1
        rate = runs * batch / (time.perf_counter() - started)
        print(f"  batch {batch:>5}: {rate:>8.0f} patches/s{'  <- GPU_BATCH' if batch == GPU_BATCH else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import onnxruntime as ort

    from tagger.files.scan import scan
    from tagger.resources import (
        samples_dir,  # tagger first: it switches off onnxruntime's telemetry
    )

    folder = args.folder or next(p for p in (REPO.parent / "shared" / "music", samples_dir()) if p.is_dir())
    files = [e.path for e in scan([folder]) if e.problem is None]
    print(f"{len(files)} tracks in {folder}; onnxruntime {ort.__version__}, providers {ort.get_available_providers()}")
    cpu_analyzer, cpu_rate, cpu = run("cpu", files)
    gpu_analyzer, gpu_rate, gpu = run("gpu", files)
    cpu_provider, gpu_provider = cpu_analyzer.models.provider, gpu_analyzer.models.provider
    print(f"CPU ({cpu_provider}): {cpu_rate:.2f} tracks/s")
    print(f"GPU ({gpu_provider}): {gpu_rate:.2f} tracks/s, {gpu_rate / cpu_rate:.1f}x the CPU")
    if gpu_provider != "CUDAExecutionProvider":
        print("no CUDA provider started: the GPU run fell back to the CPU")
        return 1
    worst = max(abs(gpu[p][m] - cpu[p][m]).max() for p in cpu if p in gpu for m in cpu[p])
    verdict = "match" if worst <= args.tolerance else "DIFFER"
    print(f"largest tag probability difference, GPU against CPU: {worst:.2e} ({verdict} within {args.tolerance:g})")
    print("GPU throughput of the models alone:")
    saturation(gpu_analyzer)
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
