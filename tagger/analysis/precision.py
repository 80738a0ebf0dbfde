"""Which weights ``--precision auto`` runs on a CPU: int8 only where it is faster and faithful.

The int8 models are faster than fp32 only where the CPU has int8 dot-product
instructions (x86: AVX-512 VNNI or AVX-VNNI; ARM: the dot-product extension), and only
there are they faithful: without them onnxruntime's int8 convolution multiplies with
vpmaddubsw, which saturates pairs of products at int16, so outputs drift up to 0.04
from fp32 and genre confidences up to 0.12, at fp32's speed (docs/benchmarks.md:
Precision). So ``auto`` runs int8 only where the CPU has those instructions *and* a
one-off check finds the int8 models' genre confidences within ``FAITHFUL_CONFIDENCE``
of fp32's on the demo samples' first patches; everywhere else fp32.

The check takes a few seconds, once: its answer is kept in the user cache folder,
keyed by everything that could change it (the CPU's model and flags, onnxruntime's
version, the four model files' digests), and within a process. A cache file that cannot
be read or parsed is only a reason to check again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.analysis.models import MODEL_NAMES, ModelSet, Precision, int8_path
from tagger.analysis.scoring import Calibration, GenreScorer
from tagger.audio.decode import AudioError, open_audio
from tagger.audio.excerpt import Depth, read_excerpt
from tagger.audio.features import LogMel
from tagger.files.scan import scan
from tagger.genres.taxonomy import Taxonomy
from tagger.resources import samples_dir

log = logging.getLogger(__name__)

# /proc/cpuinfo flags of int8 dot-product instructions, which onnxruntime's int8
# convolutions need to be both faster than fp32 and free of saturation.
INT8_DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "asimddp"})
# The most any genre confidence of any checked patch may move from fp32 for int8 to
# count as faithful. Measured on the check's patches: 0.010 with AVX-512 VNNI (AMD
# EPYC, onnxruntime 1.32); without VNNI, confidences move by up to 0.12.
FAITHFUL_CONFIDENCE = 0.03
# Patches of each demo sample at fast depth that the check runs through both precisions.
CHECK_PATCHES = 2
CHECK_FORMAT = 1


@dataclass(frozen=True)
class Cpu:
    """The CPU as /proc/cpuinfo describes it: a model name and its feature flags."""

    model: str
    flags: frozenset[str]

    @property
    def int8_dot_product(self) -> bool:
        return bool(self.flags & INT8_DOT_PRODUCT_FLAGS)


def read_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> Cpu:
    """The first processor's model and flags (x86 "flags", ARM "Features"); no flags
    where the file is missing, as outside Linux, so such a CPU runs fp32."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Cpu("unknown", frozenset())
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    model = fields.get("model name") or " ".join(
        fields.get(key, "") for key in ("cpu implementer", "cpu part", "cpu variant")).strip()
    return Cpu(model or "unknown", frozenset((fields.get("flags") or fields.get("features", "")).split()))


@dataclass(frozen=True)
class Int8Check:
    """How far the int8 models' outputs fell from fp32's on the check's patches."""

    probability_difference: float
    confidence_difference: float

    @property
    def faithful(self) -> bool:
        return self.confidence_difference <= FAITHFUL_CONFIDENCE

    def to_json(self) -> dict[str, float]:
        return {"probability_difference": self.probability_difference,
                "confidence_difference": self.confidence_difference}


def check_patches(models: ModelSet) -> list[np.ndarray]:
    """The bundled excerpt: the first ``CHECK_PATCHES`` patches at fast depth of each demo sample."""
    log_mel = LogMel(models.front_end)
    excerpt = []
    samples = sorted(event.path for event in scan([samples_dir()]) if event.problem is None)
    if not samples:  # nothing compared must not pass for faithful
        raise FileNotFoundError(f"no demo samples in {samples_dir()} to check int8 with")
    for path in samples:
        reader = open_audio(path)
        try:
            regions = read_excerpt(reader, models.front_end, Depth.FAST, CHECK_PATCHES).regions
            excerpt.append(np.concatenate([log_mel.patches(r.audio, r.n_patches) for r in regions]))
        finally:
            reader.close()
    return excerpt


def check_int8(directory: Path) -> Int8Check:
    """Run the int8 and fp32 models in ``directory`` on the bundled excerpt and compare
    their tag probabilities and each sample's genre confidences."""
    fp32 = ModelSet(device="cpu", threads=1, precision=Precision.FP32, directory=directory)
    int8 = ModelSet(device="cpu", threads=1, precision=Precision.INT8, directory=directory)
    scorer = GenreScorer(Taxonomy.load(), Calibration.load(fp32.infos), fp32.infos)
    probability = confidence = 0.0
    for patches in check_patches(fp32):
        exact = {name: output.probabilities for name, output in fp32.run(patches).items()}
        quantized = {name: output.probabilities for name, output in int8.run(patches).items()}
        probability = max(probability, *(float(np.abs(quantized[n] - exact[n]).max()) for n in exact))
        # The sample's genres, as a file's are ranked: from its patches' mean probabilities.
        moved = np.abs(scorer.genre_confidences({n: p.mean(axis=0) for n, p in quantized.items()})
                       - scorer.genre_confidences({n: p.mean(axis=0) for n, p in exact.items()}))
        confidence = max(confidence, float(moved.max()))
    return Int8Check(probability, confidence)


def check_key(cpu: Cpu, directory: Path) -> str:
    """What the check's answer depends on: the CPU, onnxruntime and the model files."""
    import onnxruntime as ort

    digest = hashlib.sha256()
    for name in MODEL_NAMES:
        for path in (directory / f"{name}.onnx", int8_path(directory / f"{name}.onnx")):
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return json.dumps([cpu.model, sorted(cpu.flags), ort.__version__, digest.hexdigest()])


def default_check_path() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("genre-tagger", appauthor=False) / "precision.json"


def cached_check(path: Path, key: str) -> Int8Check | None:
    """The stored check for ``key``; None where there is none, or the file is unreadable or damaged."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["format"] != CHECK_FORMAT or stored["key"] != key:
            return None
        return Int8Check(float(stored["probability_difference"]), float(stored["confidence_difference"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.info("checking int8 again: %s is unreadable (%s)", path, e)
        return None


def store_check(path: Path, key: str, check: Int8Check) -> None:
    """Keep the check's answer; where the cache folder cannot take it, the next start checks again."""
    from tagger.files.atomic import write_file_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomically(path, json.dumps({"format": CHECK_FORMAT, "key": key, **check.to_json()}).encode())
    except OSError as e:
        log.warning("could not keep the int8 check in %s (%s); it runs again next time", path, e)


_checked: dict[str, Int8Check] = {}
_checking = threading.Lock()


def auto_cpu_precision(directory: Path, cpu: Cpu | None = None, path: Path | None = None) -> Precision:
    """int8 where this CPU has int8 dot-product instructions and the int8 models in
    ``directory`` are faithful to fp32 on it (checked once per machine); else fp32."""
    cpu = cpu or read_cpu()
    if not cpu.int8_dot_product:
        return Precision.FP32
    path = path or default_check_path()
    key = check_key(cpu, directory)
    with _checking:  # two analyzers starting at once check once
        check = _checked.get(key) or cached_check(path, key)
        if check is None:
            log.info("checking the int8 models against fp32 on this CPU (once)")
            try:
                check = check_int8(directory)
            except (OSError, AudioError) as e:  # a damaged install: analyse, at fp32, and check next time
                log.warning("could not check the int8 models against fp32 (%s); running fp32", e)
                return Precision.FP32
            store_check(path, key, check)
        _checked[key] = check
    if not check.faithful:
        log.info("int8 genre confidences moved up to %.3f from fp32 on this CPU: running fp32",
                 check.confidence_difference)
    return Precision.INT8 if check.faithful else Precision.FP32


def forget_checks() -> None:
    """Forget the checks made in this process, so the next one reads or makes the cache file."""
    _checked.clear()
