"""The desktop app's start-up: decoders' notes kept out of its terminal output, Qt's messages let through."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

APP_SCRIPT = r"""
import sys, threading
from PySide6.QtCore import qWarning
from PySide6.QtWidgets import QApplication
from tagger import audio
from ui.app import quiet_decoders

if sys.argv[2] == "verbose":
    audio.show_decoder_notes(True)
with quiet_decoders():
    application = QApplication(sys.argv[:1])
    worker = threading.Thread(target=lambda: audio.open_audio(sys.argv[1]).read(0.0, 12.0))
    worker.start()
    worker.join()
    qWarning("a warning of Qt's own")
"""


@pytest.mark.parametrize("mode", ["quiet", "verbose"])
def test_the_app_keeps_decoder_notes_out_but_lets_qt_speak(make_audio, mode):
    path = make_audio("damaged.mp3", seconds=12.0)
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 400] = np.random.default_rng(3).integers(0, 256, 400, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", APP_SCRIPT, str(path), mode], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "a warning of Qt's own" in result.stderr
    assert ("Note: Trying to resync" in result.stderr) == (mode == "verbose"), result.stderr


FATAL_SCRIPT = r"""
import sys
from PySide6.QtWidgets import QApplication
from ui.app import quiet_decoders

with quiet_decoders():
    QApplication(sys.argv[:1])
"""


def test_qts_last_words_before_it_aborts_pass_the_filter():
    """Qt aborts right after its fatal message, before the filter's thread could pass it on."""
    env = dict(os.environ, QT_QPA_PLATFORM="no-such-platform")
    for _ in range(3):  # the race the message handler avoids is lost now and then, not every time
        result = subprocess.run([sys.executable, "-c", FATAL_SCRIPT], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode != 0
        assert 'platform plugin "no-such-platform"' in result.stderr
        assert "This application failed to start" in result.stderr
