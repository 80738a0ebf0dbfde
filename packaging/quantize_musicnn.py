"""Make the int8 variants of the bundled models, which CPUs with int8 dot products run.

Run by hand after packaging/convert_musicnn.py, in an environment with the project
installed plus the quantization tool's needs:

    pip install -e . onnx sympy
    python packaging/quantize_musicnn.py [CALIBRATION_MUSIC_FOLDER]   # default ../shared/music
    python packaging/quantize_musicnn.py --whole-graph --out DIR       # the variant measured, not shipped

Only the two "timbral" convolutions (kernels 7x38 and 7x67 over the mel axis, about
60% of the compute) are quantized, statically, with int8 weights per channel and
uint8 activations calibrated on real music. Measured on the 2-core Zen 4 machine
(onnxruntime 1.32): 34.5 -> 22.3 ms per patch per model on one thread. Quantizing
more does not pay: the one-channel temporal convolutions run about 4x slower as
int8 there, and quantizing the whole graph changed the top-5 tags of half the
tracks. Tag probabilities move by at most about 0.02; see tests/analysis/test_models.py.
``--whole-graph`` writes the whole-graph variant elsewhere, for
``benchmarks/inference_options.py`` to measure again (docs/benchmarks.md: Analysis depth and speed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)

import tagger  # noqa: F401  first: it switches off onnxruntime's telemetry before that loads
from tagger.analysis.models import MODEL_NAMES, ModelSet, int8_path
from tagger.audio.decode import AudioError, open_audio
from tagger.audio.excerpt import Depth, read_excerpt
from tagger.audio.features import LogMel
from tagger.files.scan import scan
from tagger.resources import models_dir

REPO = Path(__file__).resolve().parent.parent
PATCHES_PER_TRACK = 10
# Mel-axis widths of the timbral kernels: int(0.4 * 96) and int(0.7 * 96) (musicnn's models.py).
TIMBRAL_KERNEL_WIDTHS = (38, 67)
QUANTIZED_TAG = "int8-timbral"


def calibration_patches(folder: Path) -> np.ndarray:
    front_end = ModelSet(device="cpu", threads=1, precision="fp32").front_end
    log_mel = LogMel(front_end)
    patches = []
    for event in scan([folder]):
        if event.problem:
            continue
        try:
            reader = open_audio(event.path)
        except AudioError as e:
            print(f"skipped {event.path}: {e}", file=sys.stderr)
            continue
        try:
            excerpt = read_excerpt(reader, front_end, Depth.FAST, PATCHES_PER_TRACK)
            patches.extend(log_mel.patches(r.audio, r.n_patches) for r in excerpt.regions)
        finally:
            reader.close()
    return np.concatenate(patches)


class Patches(CalibrationDataReader):
    def __init__(self, patches: np.ndarray, batch: int = 10) -> None:
        self._batches = iter([patches[i: i + batch] for i in range(0, len(patches), batch)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {"log_mel": batch}


def timbral_convs(model: onnx.ModelProto) -> list[str]:
    shapes = {init.name: list(init.dims) for init in model.graph.initializer}
    names = [
        node.name for node in model.graph.node
        if node.op_type == "Conv" and shapes.get(node.input[1], [0])[-1] in TIMBRAL_KERNEL_WIDTHS
    ]
    if len(names) != 2:
        raise SystemExit(f"expected the 2 timbral convolutions, found {names}")
    return names


def quantize(name: str, patches: np.ndarray, work: Path, whole_graph: bool, out: Path | None) -> None:
    source = models_dir() / f"{name}.onnx"
    prepared = work / f"{name}.pre.onnx"
    quant_pre_process(str(source), str(prepared))
    target = int8_path(out / source.name if out else source)
    quantize_static(
        str(prepared), str(target), Patches(patches),
        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        per_channel=True, extra_options={"WeightSymmetric": True},
        nodes_to_quantize=None if whole_graph else timbral_convs(onnx.load(prepared)),
    )
    quantized = onnx.load(target)
    original = {p.key: p.value for p in onnx.load(source).metadata_props}
    del quantized.metadata_props[:]
    for key, value in original.items():
        if key == "genre_tagger.model_version":
            value = f"{value}+{QUANTIZED_TAG}"
        quantized.metadata_props.add(key=key, value=value)
    # Its outputs stay within 0.02 of the original's, so it shares its calibration.
    quantized.metadata_props.add(key="genre_tagger.calibration_version", value=original["genre_tagger.model_version"])
    onnx.save(quantized, target)
    print(f"{name}: wrote {target} ({target.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "music")
    parser.add_argument("--whole-graph", action="store_true", help="quantize every convolution and matrix product")
    parser.add_argument("--out", type=Path, help="write the models here instead of resources/models")
    args = parser.parse_args()
    patches = calibration_patches(args.folder)
    print(f"calibrating on {len(patches)} patches from {args.folder}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name in MODEL_NAMES:
            quantize(name, patches, Path(work), args.whole_graph, args.out)


if __name__ == "__main__":
    main()
