"""The assistant's reply the echo tests play (real espeak-ng speech at 16 kHz, about 9 s),
and the simulated room it comes back to the microphone through."""

from __future__ import annotations

import numpy as np
import soxr

from voicecli.core.audio_format import SAMPLE_RATE, TTS_RATE
from voicecli.reply.synth import compose


def reply_audio() -> np.ndarray:
    audio = compose(
        "The forecast says a dry morning, clouds after noon and a cool evening by the river.",
        0.2,
        "Remember to take a coat if you go out late.",
    )
    return soxr.resample(audio, TTS_RATE, SAMPLE_RATE).astype(np.float32)


def room_echo(reply: np.ndarray, delay_ms: int, rt60: float, seed: int = 1) -> np.ndarray:
    """``reply`` as a microphone hears it: ``delay_ms`` late, a direct path of 0.8 and a noise
    tail decaying over ``rt60`` seconds."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rt60 * SAMPLE_RATE)) / SAMPLE_RATE
    response = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60) * 0.05
    response[0] = 0.8
    delayed = np.concatenate((np.zeros(delay_ms * SAMPLE_RATE // 1000), reply))
    return np.convolve(delayed, response)[: len(reply)].astype(np.float32)
