"""Compose spoken test audio: sentences spoken by espeak-ng joined by exact silences.

Why in the package: the demo recording, the benchmark corpus generator and the tests all build
speech the same way, at 16 kHz mono float32 -- the pipeline's own format.
"""

from __future__ import annotations

import functools

import numpy as np

from voicecli.audio_file import resample
from voicecli.clock import SAMPLE_RATE
from voicecli.config import TtsConfig
from voicecli.tts import TTS_RATE, TextToSpeech


@functools.lru_cache(maxsize=256)
def speak(text: str, voice: str = "gmw/en-us", rate: int = 140) -> np.ndarray:
    """``text`` spoken by espeak-ng, trimmed of leading/trailing silence, 16 kHz float32.

    Cached: espeak-ng's output varies by a few samples from call to call, and a test session
    should hear the same phrase the same way every time (read-only result)."""
    tts = TextToSpeech(TtsConfig(voice=voice, rate=rate))
    pcm = tts.synthesize(text).astype(np.float32) / 32768.0
    voiced = np.flatnonzero(np.abs(pcm) > 0.01)
    if voiced.size:
        pcm = pcm[voiced[0] : voiced[-1] + 1]
    audio = resample(pcm, TTS_RATE, SAMPLE_RATE)
    audio.flags.writeable = False
    return audio


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def compose(*parts: str | float, voice: str = "gmw/en-us", rate: int = 140) -> np.ndarray:
    """Strings are spoken, numbers are seconds of silence: compose(0.5, "Hi.", 1.5, "Bye.")."""
    pieces = [silence(p) if isinstance(p, int | float) else speak(p, voice, rate) for p in parts]
    return np.concatenate(pieces)
