"""The wake chime: a short generated two-note tone (no sound file to ship)."""

from __future__ import annotations

import numpy as np

RATE = 16000
NOTES_HZ = (880.0, 1320.0)
NOTE_S = 0.07
LEVEL = 0.2  # about -14 dBFS: heard, not startling


def chime_tone(rate: int = RATE) -> np.ndarray:
    """Two rising notes, each with a 10 ms fade in and out (no clicks), float32."""
    n = int(NOTE_S * rate)
    t = np.arange(n) / rate
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    notes = [np.sin(2 * np.pi * hz * t) * fade for hz in NOTES_HZ]
    return (LEVEL * np.concatenate(notes)).astype(np.float32)
