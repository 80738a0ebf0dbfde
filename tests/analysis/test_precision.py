"""What --precision auto picks on a CPU: its features, the one-off int8 check and its cache."""

import json
from pathlib import Path

import numpy as np
import pytest

from tagger.analysis import precision
from tagger.analysis.models import ModelSet
from tagger.analysis.precision import (
    Cpu,
    Int8Check,
    auto_cpu_precision,
    check_int8,
    forget_checks,
    read_cpu,
)
from tagger.resources import models_dir

VNNI = Cpu("AMD EPYC", frozenset({"avx2", "avx512f", "avx512_vnni"}))
AVX2_ONLY = Cpu("AMD EPYC", frozenset({"avx2", "fma"}))
FAITHFUL = Int8Check(probability_difference=0.022, confidence_difference=0.013)
# What the int8 models gave without VNNI (issue 13): outputs 0.04 off, genres 0.12.
SATURATED = Int8Check(probability_difference=0.044, confidence_difference=0.12)


@pytest.fixture(autouse=True)
def fresh_checks():
    forget_checks()
    yield
    forget_checks()


@pytest.fixture
def checks(monkeypatch):
    """Stands in for the real check, answering ``result[0]`` and counting its runs."""
    runs = []
    result = [FAITHFUL]

    def check(directory):
        runs.append(directory)
        return result[0]

    monkeypatch.setattr(precision, "check_int8", check)
    return runs, result


X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni

processor\t: 1
model name\t: something else
"""
ARM = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm asimddp
CPU implementer\t: 0x41
CPU variant\t: 0x3
CPU part\t: 0xd0c
"""


def test_cpu_features_are_read_from_cpuinfo(tmp_path):
    (tmp_path / "x86").write_text(X86)
    (tmp_path / "arm").write_text(ARM)
    (tmp_path / "avx2").write_text(X86.replace(" avx512f avx512_vnni", ""))
    x86 = read_cpu(tmp_path / "x86")
    assert x86.model == "AMD EPYC 9R14" and x86.int8_dot_product
    arm = read_cpu(tmp_path / "arm")
    assert arm.model == "0x41 0xd0c 0x3" and arm.int8_dot_product
    assert not read_cpu(tmp_path / "avx2").int8_dot_product
    assert read_cpu(tmp_path / "absent") == Cpu("unknown", frozenset())  # not Linux: fp32


def test_a_cpu_without_int8_dot_products_runs_fp32_without_a_check(checks, tmp_path):
    runs, _ = checks
    assert auto_cpu_precision(models_dir(), AVX2_ONLY, tmp_path / "precision.json") == "fp32"
    assert runs == [] and not (tmp_path / "precision.json").exists()


def test_int8_runs_only_where_the_check_finds_it_faithful(checks, tmp_path):
    runs, result = checks
    assert auto_cpu_precision(models_dir(), VNNI, tmp_path / "faithful.json") == "int8"
    result[0] = SATURATED
    assert auto_cpu_precision(models_dir(), VNNI, tmp_path / "saturated.json") == "int8"  # the process remembers
    forget_checks()
    assert auto_cpu_precision(models_dir(), VNNI, tmp_path / "saturated.json") == "fp32"
    assert len(runs) == 2


def test_the_check_runs_once_per_machine(checks, tmp_path, monkeypatch):
    runs, result = checks
    path = tmp_path / "cache" / "precision.json"
    assert auto_cpu_precision(models_dir(), VNNI, path) == "int8"
    forget_checks()  # a new process: the file answers
    result[0] = SATURATED
    assert auto_cpu_precision(models_dir(), VNNI, path) == "int8"
    assert len(runs) == 1
    # Another CPU (a home folder shared between machines) or another onnxruntime checks again.
    other = Cpu("Intel Xeon", VNNI.flags)
    assert auto_cpu_precision(models_dir(), other, path) == "fp32"
    assert len(runs) == 2
    result[0] = FAITHFUL
    monkeypatch.setattr("onnxruntime.__version__", "9.9.9")
    assert auto_cpu_precision(models_dir(), VNNI, path) == "int8"
    assert len(runs) == 3


@pytest.mark.parametrize("damage", ["", "{not json", '{"format": 1}', "[1, 2]", '{"format": 1, "key": null}'])
def test_a_damaged_check_file_is_checked_again(checks, tmp_path, damage):
    runs, _ = checks
    path = tmp_path / "precision.json"
    path.write_text(damage)
    assert auto_cpu_precision(models_dir(), VNNI, path) == "int8"
    assert len(runs) == 1
    assert json.loads(path.read_text())["confidence_difference"] == FAITHFUL.confidence_difference


def test_a_check_that_cannot_be_kept_still_answers(checks, tmp_path, caplog):
    (tmp_path / "file").write_text("a file where the cache folder should be")
    assert auto_cpu_precision(models_dir(), VNNI, tmp_path / "file" / "precision.json") == "int8"
    assert "runs again next time" in caplog.text


def test_the_real_check_measures_int8_against_fp32():
    check = check_int8(models_dir())
    # However the CPU runs int8, the quantized models move outputs a little and not wildly.
    assert 0.001 < check.probability_difference < 0.1
    assert 0.001 < check.confidence_difference < 0.3


def test_what_auto_picks_is_what_the_cpu_does_well():
    """On this CPU, whatever kind it is: int8 only with int8 dot products and a faithful check."""
    picked = ModelSet(device="cpu", threads=1).precision
    expected = "int8" if read_cpu().int8_dot_product and check_int8(models_dir()).faithful else "fp32"
    assert picked == expected


def test_the_check_finds_int8_that_drifts_as_without_vnni_unfaithful(monkeypatch):
    """int8 outputs moved by at most 0.04, as the saturating kernel without VNNI moved them
    (an emulation: the drift's pattern there is the kernel's, not this one), fail the check."""
    run = ModelSet.run

    def drifting(self, patches):
        outputs = run(self, patches)
        if self.precision == "int8":
            for output in outputs.values():
                output.probabilities[:] += np.minimum(0.3 * output.probabilities, 0.04)
        return outputs

    monkeypatch.setattr(ModelSet, "run", drifting)
    check = check_int8(models_dir())
    assert check.probability_difference <= 0.04 + 0.025  # the drift, on top of int8's own
    assert not check.faithful


def test_new_model_files_are_checked_again(checks, tmp_path):
    import shutil

    runs, _ = checks
    models = Path(shutil.copytree(models_dir(), tmp_path / "models"))
    path = tmp_path / "precision.json"
    auto_cpu_precision(models, VNNI, path)
    forget_checks()
    auto_cpu_precision(models, VNNI, path)
    assert len(runs) == 1
    forget_checks()
    with (models / "MTT_musicnn.int8.onnx").open("ab") as f:  # re-quantized, say
        f.write(b"\0")
    auto_cpu_precision(models, VNNI, path)
    assert len(runs) == 2


def test_without_demo_samples_to_check_with_auto_runs_fp32(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(precision, "samples_dir", lambda: tmp_path)
    with pytest.raises(FileNotFoundError):
        check_int8(models_dir())  # nothing compared is no evidence of faithfulness
    assert auto_cpu_precision(models_dir(), VNNI, tmp_path / "precision.json") == "fp32"
    assert "could not check" in caplog.text and not (tmp_path / "precision.json").exists()
