import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from support.audio import tone

from tagger import cli
from tagger.cli.options import EXIT_USAGE
from tagger.cli.program import version_text


def run(capsys, *args):
    code = cli.main(["suggest", "--device", "cpu", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_records(out):
    return [json.loads(line) for line in out.splitlines()]


def test_demo_json_shape(capsys):
    code, out, err = run(capsys, "--demo", "--json", "--top", "4")
    assert code == 0
    records = json_records(out)
    assert len(records) == 3
    for record in records:
        assert record["status"] == "ok"
        assert {"path", "status", "genres", "descriptors", "current_genres"} <= set(record)
        genres = record["genres"]
        assert len(genres) == 4
        assert [g["confidence"] for g in genres] == sorted((g["confidence"] for g in genres), reverse=True)
        assert all(set(g) >= {"genre", "confidence"} and 0 <= g["confidence"] <= 1 for g in genres)
        assert record["current_genres"] == []
        assert record["segments"] and record["music_detected"]
    assert "3 file(s) analysed" in err and "CPUExecutionProvider" in err


def test_plain_table(capsys):
    code, out, _ = run(capsys, "--demo", "--top", "2")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 9  # path, genres, details for each of the three samples
    assert lines[0].endswith(".mp3") or lines[0].endswith(".ogg") or lines[0].endswith(".opus")
    assert lines[1].count("%") == 2
    assert "now tagged: (no genre)" in lines[2]


def test_current_genres_and_thresholds(capsys, make_audio):
    from mutagen.flac import FLAC

    path = make_audio("tagged.flac", seconds=10.0)
    tags = FLAC(path)
    tags["genre"] = ["Jazz", "jazz", "Bebop"]
    tags.save()
    code, out, _ = run(capsys, str(path), "--json", "--top", "10")
    (everything,) = json_records(out)
    assert code == 0
    assert everything["current_genres"] == ["Jazz", "Bebop"]
    # A threshold between the second and third genre keeps exactly the first two:
    # a check over an empty list (all genres below 0.99, as before) proved nothing.
    confidences = [g["confidence"] for g in everything["genres"]]
    assert len(confidences) == 10 and confidences[1] > confidences[2]
    threshold = (confidences[1] + confidences[2]) / 2
    code, out, _ = run(capsys, str(path), "--json", "--top", "10", "--min-confidence", str(threshold))
    (record,) = json_records(out)
    assert code == 0
    assert record["genres"] == everything["genres"][:2]
    assert all(g["confidence"] >= threshold for g in record["genres"])


@pytest.fixture
def bad_inputs(tmp_path):
    """One of each kind of bad input the batch must survive."""
    made = {}
    made["missing"] = tmp_path / "missing.flac"
    (tmp_path / "empty-folder").mkdir()
    made["no_audio_folder"] = tmp_path / "empty-folder"
    made["text_as_mp3"] = tmp_path / "letter.mp3"
    made["text_as_mp3"].write_text("Dear diary,\n" * 100)
    made["zero_bytes"] = tmp_path / "zero.mp3"
    made["zero_bytes"].write_bytes(b"")
    for name, subtype in [("cut.flac", "PCM_16"), ("cut.mp3", "MPEG_LAYER_III")]:
        path = tmp_path / name
        sf.write(path, tone(30.0), 44100, subtype=subtype)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
        made[name] = path
    made["half_second"] = tmp_path / "half.wav"
    sf.write(made["half_second"], tone(0.5), 44100)
    made["silence"] = tmp_path / "silence.wav"
    sf.write(made["silence"], np.zeros((44100 * 5, 2), np.float32), 44100)
    made["emoji"] = tmp_path / "🎵 mix №1.flac"
    sf.write(made["emoji"], tone(8.0), 44100)
    made["latin1_name"] = tmp_path / os.fsdecode(b"caf\xe9 del mar.flac")
    sf.write(os.fsencode(made["latin1_name"]), tone(8.0), 44100)
    return made


def test_bad_inputs_give_clear_per_file_results(capsys, bad_inputs):
    code, out, err = run(capsys, "--json", *map(str, bad_inputs.values()))
    assert code == 1
    assert "Traceback" not in err
    records = {r["path"]: r for r in json_records(out)}
    by_kind = {kind: records[str(path)] for kind, path in bad_inputs.items()}
    assert by_kind["missing"] == {"path": str(bad_inputs["missing"]), "status": "error",
                                  "error": "no such file or folder"}
    assert by_kind["no_audio_folder"]["error"] == "no audio files found in this folder"
    assert by_kind["text_as_mp3"]["error"].startswith("not a decodable audio file")
    assert by_kind["zero_bytes"]["error"] == "empty file (0 bytes)"
    # Cut to a third, both lose audio that the fast depth's patches need.
    assert "truncated" in by_kind["cut.mp3"]["error"]
    assert "truncated or corrupt" in by_kind["cut.flac"]["error"]
    assert by_kind["half_second"]["status"] == "ok" and by_kind["half_second"]["genres"]
    assert by_kind["silence"]["status"] == "ok"
    assert by_kind["silence"]["genres"] == [] and by_kind["silence"]["message"].startswith("no music detected")
    assert by_kind["emoji"]["status"] == "ok" and by_kind["emoji"]["genres"]
    assert by_kind["latin1_name"]["status"] == "ok" and by_kind["latin1_name"]["genres"]


def test_plain_output_survives_undecodable_file_names(capsys, bad_inputs):
    code, out, _ = run(capsys, str(bad_inputs["latin1_name"]), str(bad_inputs["zero_bytes"]))
    assert code == 1
    assert "caf\\udce9 del mar.flac" in out
    assert "error: empty file (0 bytes)" in out


@pytest.mark.parametrize(
    "args",
    [[], ["--top", "0", "x"], ["--min-confidence", "1.5", "x"], ["--depth", "deep", "x"], ["--device", "tpu", "x"]],
)
def test_usage_errors_exit_2(capsys, args):
    try:
        code = cli.main(["suggest", *args])
    except SystemExit as exit:
        code = exit.code
    assert code == 2
    assert capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "tagger.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("genre-tagger 0.1.0")


def test_version_names_the_app_and_its_models(tmp_path, monkeypatch):
    from importlib.metadata import version

    import onnxruntime as ort

    import tagger
    from tagger.analysis.models import MODEL_NAMES, read_onnx_metadata
    from tagger.resources import models_dir

    # The cheap reader that --version uses agrees with onnxruntime on every bundled file.
    runtime_versions = {}
    for path in sorted(models_dir().glob("*.onnx")):
        metadata = dict(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                        .get_modelmeta().custom_metadata_map)
        assert read_onnx_metadata(path) == metadata, path.name
        runtime_versions[path.name] = metadata["genre_tagger.model_version"]
    installed = version("genre-tagger")
    assert installed == tagger.__version__  # pyproject.toml takes it from tagger/__init__.py

    result = subprocess.run([sys.executable, "-m", "tagger.cli", "--version"], capture_output=True, text=True,
                            check=True)
    models = ", ".join(f"{name} {runtime_versions[name + '.onnx']}" for name in MODEL_NAMES)
    assert result.stdout.splitlines() == [f"genre-tagger {installed} (models: {models})"]
    assert not result.stderr
    # The fp32 models', which every CPU can run; --precision auto picks int8 by the CPU.
    assert "+int8-timbral" not in result.stdout

    # A broken install still says which version it is.
    monkeypatch.setattr("tagger.resources.models_dir", lambda: tmp_path)
    assert version_text().startswith(f"genre-tagger {installed} (models: unreadable: ")


def test_without_a_display_the_app_explains_instead_of_crashing(monkeypatch, capsys):
    from ui.launcher import main
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == EXIT_USAGE
    assert "no display" in capsys.readouterr().err
    assert main(["gui", "somewhere"]) == EXIT_USAGE


def test_the_command_line_alone_points_to_the_app(capsys):
    assert cli.main(["gui"]) == EXIT_USAGE
    assert "the desktop app opens with `genre-tagger` or `python -m ui`" in capsys.readouterr().err
