#!/bin/sh
# The GPU and many-core figures of issue 25, in one run on a machine with an NVIDIA GPU
# (and, for the scaling, many cores). Prints everything; nothing is downloaded, so the
# machine needs onnxruntime-gpu installed beforehand (pip install '.[gpu]').
#
#   sh benchmarks/device_check.sh [MUSIC_FOLDER]
set -eu
cd "$(dirname "$0")/.."
music="${1:-../shared/music}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())"
# The GPU against the CPU: outputs within tolerance, tracks/s, and the batch that saturates it.
python benchmarks/gpu_check.py "$music"
# The CPU pipeline on every core count up to the machine's.
python benchmarks/thread_scaling.py "$music" --threads 1,2,4,8,16
