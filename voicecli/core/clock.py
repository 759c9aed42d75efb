"""The pipeline clock: one timeline for VAD silences, turn waits and timers.

Why: decisions must not depend on how fast the machine is. For file and stdin input the clock
is samples consumed / 16000, so ``--fast`` makes the same decisions as real time. A live source
(microphone, server session) also moves the clock with wall time while no samples arrive, so a
muted or typed-only conversation still moves (timers fire).
"""

from __future__ import annotations

import threading
import time

from voicecli.core.audio_format import SAMPLE_RATE

IDLE_AFTER_S = 0.25  # a live source silent this long (muted, typed-only) lets wall time run


class PipelineClock:
    def __init__(self, live: bool = False) -> None:
        self.live = live
        self._samples = 0
        self._idle_s = 0.0
        self._last_activity = time.monotonic()
        self._lock = threading.Lock()

    def advance(self, samples: int) -> float:
        """Count ``samples`` consumed; returns the new time."""
        with self._lock:
            self._idle_s += self._gap()
            self._samples += samples
            self._last_activity = time.monotonic()
            return self._now()

    def now(self) -> float:
        with self._lock:
            return self._now()

    def run_free(self) -> None:
        """No more samples will come (end of a file or stdin): from now on wall time moves the
        clock, at once and without the idle delay, so timers still fire while chat lingers."""
        with self._lock:
            self._idle_s += self._gap()
            self.live = True
            self._last_activity = time.monotonic() - IDLE_AFTER_S

    def _gap(self) -> float:
        """Wall time a live clock has run on its own since samples last arrived."""
        if not self.live:
            return 0.0
        return max(0.0, time.monotonic() - self._last_activity - IDLE_AFTER_S)

    def _now(self) -> float:
        return self._samples / SAMPLE_RATE + self._idle_s + self._gap()
