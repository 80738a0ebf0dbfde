"""What one patch costs in inference under each onnxruntime setting we could ship.

    python benchmarks/inference_options.py [--patches 60] [--extra-model NAME=PATH ...]

Runs real log-mel patches (from ../shared/music, or the demo samples) through each
bundled model and prints milliseconds per patch per model for:
- precision: fp32, and the shipped int8 variant (timbral convolutions quantized);
  --extra-model adds others, such as a whole-graph int8 variant made with
  ``packaging/quantize_musicnn.py --whole-graph``;
- graph optimisation level: basic, extended, all;
- the memory arena and memory pattern switched off;
- batch size 1, 2 (the pipeline's) and 8;
- two cores used as two single-threaded sessions on two threads (the pipeline's
  layout) against one session with two intra-op threads, with and without spinning
  and with the threads pinned to cores.
Each figure is the median of several timed passes after a warm-up pass.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PASSES = 5


def real_patches(count: int) -> np.ndarray:
    from tagger.audio.decode import open_audio
    from tagger.audio.excerpt import Depth, read_excerpt
    from tagger.audio.features import FrontEnd, LogMel
    from tagger.files.scan import scan
    from tagger.resources import samples_dir

    folder = next(p for p in (REPO.parent / "shared" / "music", samples_dir()) if p.is_dir())
    front_end, patches = FrontEnd(), []
    log_mel = LogMel(front_end)
    for event in scan([folder]):
        reader = open_audio(event.path)
        try:
            for region in read_excerpt(reader, front_end, Depth.FAST, 4).regions:
                patches.append(log_mel.patches(region.audio, region.n_patches))
        finally:
            reader.close()
        if sum(len(p) for p in patches) >= count:
            break
    return np.concatenate(patches)[:count]


def session(path: Path, threads: int = 1, level: str = "all", arena: bool = True, pattern: bool = True,
            spinning: bool = True, affinity: str | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
    options.enable_mem_pattern = pattern
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if affinity:
        options.add_session_config_entry("session.intra_op_thread_affinities", affinity)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def per_patch_ms(sessions: list, patches: np.ndarray, batch: int) -> str:
    """Wall and CPU milliseconds per patch with ``sessions`` running side by side on
    threads, each over its share of the patches. CPU time (of every thread in the
    process, spinning included) is the figure to trust on a machine that is busy with
    other work too."""
    shares = np.array_split(patches, len(sessions))

    def work(s, share) -> None:
        for first in range(0, len(share), batch):
            s.run(None, {"log_mel": share[first: first + batch]})

    walls, cpus = [], []
    for attempt in range(PASSES + 1):
        threads = [threading.Thread(target=work, args=pair) for pair in zip(sessions, shares)]
        started, started_cpu = time.perf_counter(), time.process_time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if attempt:  # the first pass warms up arenas and caches
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - started_cpu)
    return (f"wall {1000 * statistics.median(walls) / len(patches):6.1f}  "
            f"CPU {1000 * statistics.median(cpus) / len(patches):6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=60)
    parser.add_argument("--extra-model", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import onnxruntime as ort

    from tagger.analysis.models import MODEL_NAMES, int8_path
    from tagger.resources import models_dir

    patches = real_patches(args.patches)
    print(f"{len(patches)} real patches; onnxruntime {ort.__version__}; ms per patch per model "
          f"(two sessions on two threads share the patches)")
    for name in MODEL_NAMES:
        fp32 = models_dir() / f"{name}.onnx"
        variants = {"fp32": fp32, "int8 (shipped)": int8_path(fp32)}
        for extra in args.extra_model:
            label, _, path = extra.partition("=")
            variants[label] = Path(path.replace("{model}", name))
        print(f"\n{name}")
        for label, path in variants.items():
            print(f"  {label:<32} batch 2, one thread: {per_patch_ms([session(path)], patches, 2)}")
        shipped = variants["int8 (shipped)"]
        rows = {
            "optimisation basic": ([session(shipped, level="basic")], 2),
            "optimisation extended": ([session(shipped, level="extended")], 2),
            "optimisation all (shipped)": ([session(shipped)], 2),
            "no memory arena": ([session(shipped, arena=False)], 2),
            "no memory pattern": ([session(shipped, pattern=False)], 2),
            "batch 1": ([session(shipped)], 1),
            "batch 8": ([session(shipped)], 8),
            "2 sessions x 1 thread (shipped)": ([session(shipped), session(shipped)], 2),
            "1 session x 2 threads": ([session(shipped, threads=2)], 2),
            "1 session x 2 threads, no spin": ([session(shipped, threads=2, spinning=False)], 2),
            "1 session x 2 threads, pinned": ([session(shipped, threads=2, affinity="2")], 2),
            "1 session x 2 threads, batch 8": ([session(shipped, threads=2)], 8),
        }
        for label, (sessions, batch) in rows.items():
            print(f"  int8 {label:<36} {per_patch_ms(sessions, patches, batch)}")


if __name__ == "__main__":
    main()
