"""The assistant's reply the echo tests play: real espeak-ng speech at 16 kHz, about 9 s."""

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
