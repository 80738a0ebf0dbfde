"""Convert musicnn's MSD and MTT models from TensorFlow 1 checkpoints to ONNX.

Run by hand, never by CI. It needs a throwaway virtualenv, because TensorFlow is
not a dependency of Genre Tagger:

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install 'tensorflow==2.21.*' 'tf-keras==2.21.*' 'tf2onnx==1.17.*' \
        onnx onnxruntime librosa soundfile
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfenv/bin/python packaging/convert_musicnn.py

It writes ``resources/models/{MSD,MTT}_musicnn.onnx`` and the golden file
``tests/data/musicnn_golden.npz``: a few log-mel patches and TensorFlow's outputs
for them, which ``tests/analysis/test_models.py`` checks onnxruntime against. The recipe
follows ../shared/MODEL.md.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Keras 3 dropped tf.compat.v1.layers, which musicnn's graph is made of.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# onnxruntime's telemetry, off before it loads (this script does not import tagger,
# whose __init__ sets the same; see there).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import librosa
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx

tf.compat.v1.disable_eager_execution()

from musicnn import configuration as musicnn_config  # noqa: E402
from musicnn import models as musicnn_models  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MODELS_OUT = REPO / "resources" / "models"
GOLDEN_OUT = REPO / "tests" / "data" / "musicnn_golden.npz"
MUSICNN_DIR = Path(musicnn_models.__file__).resolve().parent
MODEL_FORMAT_VERSION = "1"

PATCH_FRAMES = 187
FRONT_END = {
    "sample_rate": musicnn_config.SR,
    "n_fft": musicnn_config.FFT_SIZE,
    "hop_length": musicnn_config.FFT_HOP,
    "n_mels": musicnn_config.N_MELS,
    "fmin": 0.0,
    "fmax": musicnn_config.SR / 2,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "power": 2.0,
    "window": "hann",
    "center": True,
    "patch_frames": PATCH_FRAMES,
    "compression": "log10(10000 * float16(mel) + 1)",
}
MODELS = {
    "MSD_musicnn": {
        "labels": musicnn_config.MSD_LABELS,
        "dataset": "Million Song Dataset, top-50 last.fm tags",
        "roc_auc": 0.8802,
    },
    "MTT_musicnn": {
        "labels": musicnn_config.MTT_LABELS,
        "dataset": "MagnaTagATune, top-50 tags",
        "roc_auc": 0.9067,
    },
}
OUTPUTS = {"tag_probabilities": None, "penultimate": None, "mean_pool": None, "max_pool": None}


def build_frozen_graph(name: str) -> tuple[tf.compat.v1.GraphDef, tf.compat.v1.Session, tf.Graph]:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, musicnn_config.N_MELS], name="log_mel")
        # is_training as a Python False keeps batch norm on its moving statistics
        # and removes dropout from the graph altogether.
        logits, _, _, _, _, _, mean_pool, max_pool, penultimate = musicnn_models.define_model(
            x, False, name, len(MODELS[name]["labels"])
        )
        tf.nn.sigmoid(logits, name="tag_probabilities")
        tf.identity(penultimate, name="penultimate")
        tf.identity(mean_pool, name="mean_pool")
        tf.identity(max_pool, name="max_pool")
        session = tf.compat.v1.Session(graph=graph)
        # The checkpoint's files are named ".index"/".data-…", so the prefix is the
        # folder itself; its "checkpoint" file points at the author's home folder.
        prefix = str(MUSICNN_DIR / name) + "/"
        verify_all_variables_restored(graph, prefix)
        tf.compat.v1.train.Saver().restore(session, prefix)
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), list(OUTPUTS)
        )
    return frozen, session, graph


def verify_all_variables_restored(graph: tf.Graph, prefix: str) -> None:
    """musicnn's own extractor swallows restore errors and runs on random weights."""
    # The reader, unlike list_variables, takes the prefix as it is instead of
    # following the "checkpoint" file.
    in_checkpoint = tf.compat.v1.train.NewCheckpointReader(prefix).get_variable_to_shape_map()
    for var in graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES):
        key = var.op.name
        if key not in in_checkpoint:
            raise SystemExit(f"{prefix}: variable {key} is missing from the checkpoint")
        if list(in_checkpoint[key]) != var.shape.as_list():
            raise SystemExit(f"{prefix}: {key} has shape {in_checkpoint[key]}, graph wants {var.shape}")
    n_graph = len(graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES))
    print(f"{prefix}: all {n_graph} graph variables found in the checkpoint")


def reference_patches(paths: list[Path]) -> np.ndarray:
    """musicnn's own front end (extractor.batch_data), minus its numpy-2 overflow."""
    patches = []
    for path in paths:
        audio, sr = librosa.load(path, sr=musicnn_config.SR)
        mel = librosa.feature.melspectrogram(
            y=audio, sr=sr, hop_length=musicnn_config.FFT_HOP, n_fft=musicnn_config.FFT_SIZE,
            n_mels=musicnn_config.N_MELS,
        ).T
        log_mel = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
        patches.append(log_mel[:PATCH_FRAMES])
        patches.append(log_mel[len(log_mel) // 2: len(log_mel) // 2 + PATCH_FRAMES])
    return np.stack(patches).astype(np.float32)


def convert(name: str, golden_patches: np.ndarray) -> dict[str, np.ndarray]:
    frozen, session, graph = build_frozen_graph(name)
    with graph.as_default():
        tf_outputs = session.run(
            [f"{out}:0" for out in OUTPUTS], feed_dict={"log_mel:0": golden_patches}
        )
    model_proto, _ = tf2onnx.convert.from_graph_def(
        frozen,
        input_names=["log_mel:0"],
        output_names=[f"{out}:0" for out in OUTPUTS],
        opset=17,
    )
    rename_io(model_proto)
    spec = MODELS[name]
    metadata = {
        "genre_tagger.model_name": name,
        "genre_tagger.model_version": f"musicnn-0.1.0+onnx{MODEL_FORMAT_VERSION}",
        "genre_tagger.labels": json.dumps(spec["labels"]),
        "genre_tagger.front_end": json.dumps(FRONT_END),
        "genre_tagger.training_data": spec["dataset"],
        "genre_tagger.roc_auc": str(spec["roc_auc"]),
        "genre_tagger.source": "musicnn 0.1.0 by Jordi Pons and Xavier Serra, ISC licence",
    }
    del model_proto.metadata_props[:]
    for key, value in metadata.items():
        model_proto.metadata_props.add(key=key, value=value)
    model_proto.producer_name = "genre-tagger/packaging/convert_musicnn.py"
    onnx.checker.check_model(model_proto)
    out_path = MODELS_OUT / f"{name}.onnx"
    onnx.save(model_proto, out_path)

    ort_session = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    ort_outputs = ort_session.run(list(OUTPUTS), {"log_mel": golden_patches})
    for out, tf_value, ort_value in zip(OUTPUTS, tf_outputs, ort_outputs):
        # Pooled activations reach the hundreds, so they are compared relative to their scale.
        err = float(np.max(np.abs(tf_value - ort_value)) / max(1.0, np.max(np.abs(tf_value))))
        print(f"{name}: {out} {tf_value.shape} max |TF - ORT| / max(1, |TF|) = {err:.2e}")
        if err > 1e-4:
            raise SystemExit(f"{name}: ONNX output {out} differs from TensorFlow by {err}")
    print(f"{name}: wrote {out_path} ({out_path.stat().st_size / 1e6:.2f} MB)")
    return dict(zip(OUTPUTS, tf_outputs))


def rename_io(model_proto: onnx.ModelProto) -> None:
    """Drop TensorFlow's ':0' suffixes and name the dynamic batch axis."""
    renames = {f"{name}:0": name for name in ["log_mel", *OUTPUTS]}
    for node in model_proto.graph.node:
        node.input[:] = [renames.get(i, i) for i in node.input]
        node.output[:] = [renames.get(o, o) for o in node.output]
    for value in [*model_proto.graph.input, *model_proto.graph.output]:
        value.name = renames.get(value.name, value.name)
        value.type.tensor_type.shape.dim[0].dim_param = "batch"


def main() -> None:
    MODELS_OUT.mkdir(parents=True, exist_ok=True)
    GOLDEN_OUT.parent.mkdir(parents=True, exist_ok=True)
    samples = sorted((REPO / "resources" / "samples").glob("*.ogg")) + sorted(
        (REPO / "resources" / "samples").glob("*.mp3")
    )
    if not samples:
        raise SystemExit("run packaging/make_demo_samples.py first: the golden patches come from them")
    patches = reference_patches(samples)
    golden: dict[str, np.ndarray] = {"log_mel": patches}
    for name in MODELS:
        for out, value in convert(name, patches).items():
            golden[f"{name}/{out}"] = value
    np.savez_compressed(GOLDEN_OUT, **golden)
    print(f"wrote {GOLDEN_OUT} with {len(patches)} patches; tensorflow {tf.__version__}, "
          f"tf2onnx {tf2onnx.__version__}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
