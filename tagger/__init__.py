"""Genre Tagger's core: audio analysis, genre suggestions and tag access, without Qt."""

import os

# Nothing may leave the machine. onnxruntime 1.29+ sends 1DS telemetry on Linux: its
# threads resolve mobile.events.data.microsoft.com (a DNS query) a few seconds after the
# first session, and onnxruntime.disable_telemetry_events() does not stop that. Only
# this variable does, and only when set before onnxruntime loads, so it is set here:
# every entry point (the CLI, the app in ui/, the benchmarks and packaging scripts)
# imports tagger before onnxruntime, or sets it itself (packaging/convert_musicnn.py).
# setdefault: an explicit value from the user wins.
# tests/system/test_network_silence.py checks under strace that no connection is made.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

# The version's only source: pyproject.toml reads it from here (hatchling's dynamic version).
__version__ = "0.1.0"
