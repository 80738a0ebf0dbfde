"""The bundled musicnn models, run by onnxruntime.

Each ONNX file carries its labels, its front-end parameters and its version in its
metadata, written by ``packaging/convert_musicnn.py``; nothing about a model is
hard-coded here. One session per model is created once and reused for every file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.audio.features import FrontEnd
from tagger.resources import models_dir
from tagger.text import TextEnum, named

log = logging.getLogger(__name__)

MODEL_NAMES = ("MSD_musicnn", "MTT_musicnn")


class Device(TextEnum):
    """Where inference runs: auto takes the GPU where onnxruntime-gpu can use one."""

    AUTO = "auto"
    CPU = "cpu"
    GPU = "gpu"


class Precision(TextEnum):
    """The models' weights. int8: the variants made by packaging/quantize_musicnn.py, faster
    and faithful only on CPUs with int8 dot-product instructions. auto: int8 where the CPU
    has them and a one-off check finds int8 faithful (tagger/analysis/precision.py), else fp32."""

    AUTO = "auto"
    FP32 = "fp32"
    INT8 = "int8"


CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@dataclass(frozen=True)
class ModelInfo:
    """A bundled model's card: its tags, front end, training data and file digest."""

    name: str
    version: str
    labels: tuple[str, ...]
    front_end: FrontEnd
    training_data: str
    sha256: str
    calibration_version: str  # the model version whose calibration this one shares


@dataclass(frozen=True)
class ModelOutput:
    """One model's outputs for a batch of patches: tag probabilities and embeddings."""

    probabilities: np.ndarray  # [patches, tags], sigmoid outputs
    embeddings: np.ndarray  # [patches, 200], the penultimate layer


def choose_providers(device: Device | str, available: list[str]) -> list[str]:
    """Execution providers for ``device``; the GPU only where onnxruntime-gpu can use one."""
    device = named(Device, device)
    if device in (Device.AUTO, Device.GPU) and CUDA in available:
        return [CUDA, CPU]
    if device is Device.GPU:
        log.warning(
            "GPU requested, but onnxruntime has no CUDA provider (install genre-tagger[gpu] "
            "on a machine with an NVIDIA GPU); using the CPU"
        )
    return [CPU]


def int8_path(path: Path) -> Path:
    return path.with_suffix(".int8.onnx")


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


# ModelProto's field numbers in onnx.proto, stable since the format's first release.
ONNX_METADATA_PROPS = 14
ONNX_ENTRY_KEY, ONNX_ENTRY_VALUE = 1, 2


def read_onnx_metadata(path: Path) -> dict[str, str]:
    """An ONNX file's metadata (what a session's ``custom_metadata_map`` holds), without onnxruntime.

    ``genre-tagger --version`` needs only the model versions. Importing onnxruntime and
    opening a session per model, even unoptimised, took 70-90 ms of its ~0.8 s on two
    cores; this takes about 5 ms. The onnx package, which could parse the file, is no
    runtime dependency, so the few top-level protobuf fields are read here and the
    graph is skipped over by its length. ValueError if the file is not protobuf."""
    data = memoryview(path.read_bytes())
    metadata = {}
    for number, value in protobuf_fields(data):
        if number == ONNX_METADATA_PROPS and isinstance(value, memoryview):
            entry = {n: bytes(v).decode("utf-8") for n, v in protobuf_fields(value) if isinstance(v, memoryview)}
            metadata[entry.get(ONNX_ENTRY_KEY, "")] = entry.get(ONNX_ENTRY_VALUE, "")
    return metadata


def protobuf_fields(data: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of one protobuf message: an int for varints, the bytes otherwise."""
    position = 0
    while position < len(data):
        key, position = protobuf_varint(data, position)
        number, wire_type = key >> 3, key & 7
        value: int | memoryview
        if wire_type == 0:
            value, position = protobuf_varint(data, position)
        elif wire_type in (1, 2, 5):
            length = {1: 8, 5: 4}.get(wire_type)
            if length is None:
                length, position = protobuf_varint(data, position)
            value, position = data[position:position + length], position + length
        else:  # 3 and 4, groups, are obsolete and not in ONNX; anything else is not protobuf
            raise ValueError(f"protobuf wire type {wire_type} at byte {position}")
        if position > len(data):
            raise ValueError("protobuf message ends early")
        yield number, value


def protobuf_varint(data: memoryview, position: int) -> tuple[int, int]:
    """The varint at ``position``, and the position after it."""
    value = shift = 0
    while position < len(data):
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
    raise ValueError("protobuf varint ends early")


class TagModel:
    """One ONNX tagging model in an onnxruntime session."""

    def __init__(self, path: Path, providers: list[str], threads: int) -> None:
        import onnxruntime as ort

        # Belt and braces with ORT_DISABLE_TELEMETRY, which tagger/__init__.py sets
        # before onnxruntime loads: this alone does not stop the telemetry's DNS lookups.
        ort.disable_telemetry_events()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        model_bytes = path.read_bytes()
        self.session = ort.InferenceSession(model_bytes, options, providers=providers)
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.info = ModelInfo(
                name=meta["genre_tagger.model_name"],
                version=meta["genre_tagger.model_version"],
                labels=tuple(json.loads(meta["genre_tagger.labels"])),
                front_end=FrontEnd.from_metadata(meta["genre_tagger.front_end"]),
                training_data=meta.get("genre_tagger.training_data", ""),
                sha256=hashlib.sha256(model_bytes).hexdigest(),
                calibration_version=meta.get(
                    "genre_tagger.calibration_version", meta["genre_tagger.model_version"]
                ),
            )
        except (KeyError, ValueError) as e:
            raise RuntimeError(f"{path} lacks Genre Tagger's model metadata ({e})") from None
        self.provider = self.session.get_providers()[0]

    def run(self, patches: np.ndarray) -> ModelOutput:
        probabilities, embeddings = self.session.run(
            ["tag_probabilities", "penultimate"], {"log_mel": patches}
        )
        return ModelOutput(probabilities, embeddings)


class ModelSet:
    """Both musicnn models, sharing one front end."""

    def __init__(
        self,
        device: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
        directory: Path | None = None,
    ) -> None:
        import onnxruntime as ort

        precision = named(Precision, precision)
        directory = directory or models_dir()
        providers = choose_providers(device, ort.get_available_providers())
        threads = threads or default_threads()
        if precision is Precision.AUTO and providers[0] == CUDA:
            precision = Precision.FP32
        elif precision is Precision.AUTO:
            # precision.py runs ModelSets of its own for the check, hence the import here.
            from tagger.analysis.precision import auto_cpu_precision

            precision = auto_cpu_precision(directory)
        self.precision = precision
        paths = [directory / f"{name}.onnx" for name in MODEL_NAMES]
        if precision is Precision.INT8:
            paths = [int8_path(p) for p in paths]
        self.models = [TagModel(path, providers, threads) for path in paths]
        front_ends = {m.info.front_end for m in self.models}
        if len(front_ends) != 1:
            raise RuntimeError(f"the bundled models disagree on their front end: {front_ends}")
        self.front_end = front_ends.pop()
        self.provider = self.models[0].provider
        if CUDA in providers and self.provider != CUDA:
            log.warning("the CUDA provider failed to start (see onnxruntime's log); using the CPU")
        log.info("inference on %s, %s models, %d threads per session", self.provider, precision, threads)

    @property
    def infos(self) -> list[ModelInfo]:
        return [m.info for m in self.models]

    def run(self, patches: np.ndarray) -> dict[str, ModelOutput]:
        return {m.info.name: m.run(patches) for m in self.models}
