"""What the speaker is playing, shared with the echo guard.

Why: to tell the assistant's own voice (coming back through the microphone) from the user's,
the echo guard needs the exact signal that went out. The speaker's output callback appends a
16 kHz copy of every block it sends -- zeros while idle, so the reference is one continuous
stream whose sample count moves in step with the microphone's -- and says when audio was last
audible. When the stream is aborted, the samples still in its buffer never play: they are taken
back (``drop_unplayed``), so that the count stays in step with what reached the air and the echo
path does not seem to move by a buffer's length at every cut (benchmarks/DUPLEX.md, run 7).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from voicecli.core.audio_format import SAMPLE_RATE

HISTORY_S = 4.0


class PlaybackMonitor:
    def __init__(self, history_s: float = HISTORY_S) -> None:
        self._ring = np.zeros(int(history_s * SAMPLE_RATE), dtype=np.float32)
        self._count = 0  # reference samples appended since the start
        self._lock = threading.Lock()
        self.last_audible = float("-inf")  # monotonic time the last audible block went out
        self.audible_until = float("-inf")  # monotonic time the last audible sample plays
        self.last_audible_count = 0  # reference sample count at the end of that block
        self.pending = False  # audio queued and not yet played
        self.replies = 0  # bumped at the start of every reply (the echo guard re-arms)
        self.breaks = 0  # bumped when the stream was restarted (a new stretch of playback)
        self.underruns = 0  # bumped by the speaker when its output ran dry
        self.latency_s = 0.0  # the output stream's buffer (set by the speaker)
        # the latest block: when its first sample was to play (monotonic), and its index
        self._latest_block: tuple[float, int] | None = None

    # -- speaker side (output callback) ----------------------------------------------------
    def append(self, samples: np.ndarray, audible: bool, plays_at: float | None = None) -> None:
        """The next block sent; ``plays_at``: when its first sample plays (monotonic, from the
        host's DAC time). Where the host reports none (or nonsense), the whole output latency
        is taken to lie ahead of it."""
        n = len(samples)
        now = time.monotonic()
        if plays_at is None or not 0.0 < plays_at - now <= 2.0:
            plays_at = now + self.latency_s
        with self._lock:
            self._latest_block = (plays_at, self._count)
            size = len(self._ring)
            if n >= size:
                self._ring[:] = samples[-size:]
            else:
                start = self._count % size
                first = min(n, size - start)
                self._ring[start : start + first] = samples[:first]
                self._ring[: n - first] = samples[first:]
            self._count += n
            if audible:
                self.last_audible = time.monotonic()
                self.audible_until = plays_at + n / SAMPLE_RATE
                self.last_audible_count = self._count

    def stream_restarted(self) -> None:
        """The speaker's stream was aborted and started again (a cut, a pause): what it never
        played was taken back (``drop_unplayed``), but the sound server may have played a few
        ms of it, so the echo cancellers re-arm."""
        with self._lock:
            self.breaks += 1

    def drop_unplayed(self, at: float) -> int:
        """The stream was aborted at monotonic time ``at``: take back the samples sent that
        were still to play then (the next blocks overwrite them); how many."""
        with self._lock:
            if self._latest_block is None:
                return 0
            plays_at, first = self._latest_block
            playing = first + int((at - plays_at) * SAMPLE_RATE)
            dropped = min(max(0, self._count - playing), self._count)
            self._count -= dropped
            self.last_audible_count = min(self.last_audible_count, self._count)
            self.audible_until = min(self.audible_until, at)
            self._latest_block = None
            return dropped

    def underrun(self) -> None:
        """The output ran dry: the delay from speaker to microphone changed."""
        with self._lock:
            self.underruns += 1

    def reply_started(self) -> None:
        with self._lock:
            self.replies += 1
            self.pending = True

    # -- echo guard side -------------------------------------------------------------------
    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def window(self, end: int, n: int) -> np.ndarray:
        """Reference samples [end - n, end); zeros for what is too old or not yet played."""
        out = np.zeros(n, dtype=np.float32)
        with self._lock:
            size = len(self._ring)
            lo = max(end - n, self._count - size, 0)
            hi = min(end, self._count)
            if hi > lo:
                out[lo - (end - n) : hi - (end - n)] = self._ring[np.arange(lo, hi) % size]
        return out

    def busy(self, tail_s: float) -> bool:
        """True while audio is queued, or was audible less than ``tail_s`` ago (echo tail)."""
        return self.pending or time.monotonic() - self.last_audible < tail_s
