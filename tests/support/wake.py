"""Spoken scenes for the wake-word tests: espeak-ng phrases joined by exact silences; and
whether a recording of the speaker holds the chime."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voicecli.audio.chime import chime_tone
from voicecli.audio.file import load_audio
from voicecli.core.clock import SAMPLE_RATE
from voicecli.reply.synth import speak


def scene(*parts: str | tuple | float) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """A float is seconds of silence, a string a phrase, a tuple a phrase with its voice and
    rate; returns the audio and each phrase's (text, start s, end s)."""
    chunks, spans, at = [], [], 0
    for part in parts:
        if isinstance(part, str | tuple):
            part, *how = (part,) if isinstance(part, str) else part
            audio = speak(part, *how)
            spans.append((part, at / SAMPLE_RATE, (at + len(audio)) / SAMPLE_RATE))
        else:
            audio = np.zeros(int(part * SAMPLE_RATE), np.float32)
        chunks.append(audio)
        at += len(audio)
    return np.concatenate(chunks), spans


def chimed(wav: Path) -> bool:
    """The whole chime is in what the speaker played (normalised cross-correlation)."""
    played = load_audio(wav)
    tone = chime_tone(SAMPLE_RATE)
    windows = np.lib.stride_tricks.sliding_window_view(played, len(tone))[::16]
    energy = np.sqrt((windows**2).sum(axis=1) * (tone**2).sum()) + 1e-9
    return float((windows @ tone / energy).max()) > 0.8
