"""The echo guard: the assistant must not hear (and answer) its own voice.

Why: on speakers the microphone hears every reply. No echo canceller installs from PyPI here
(``webrtc-apm`` has no installable distribution; ``speexdsp`` is an sdist needing swig, a C++
compiler and libspeexdsp-dev), so the guard works on the exact signal the speaker sent
(PlaybackMonitor):

* default: while a reply is audible (plus an echo tail) the microphone is gated -- the listener
  gets silence, so the assistant never transcribes itself, and cannot be interrupted;
* ``--barge-in``: the bulk delay from speaker to microphone is found by cross-correlating the
  microphone with the reference, the delayed, scaled reference is subtracted, and what is left
  is the user. Speech in that residual (Silero VAD, and louder than half the expected echo)
  lasting ``min_speech_s`` cuts playback and is handed to the listener from its onset; a
  shorter sound (a click, a cough) is dropped.

Limits: one delay and one gain model a linear echo path with little reverberation (a virtual
loopback, a laptop's speakers at low volume). A reverberant room leaves a residual that may
read as speech: with loud speakers use headphones, or leave barge-in off (the default).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np

from voicecli.audio_source import FRAME
from voicecli.clock import SAMPLE_RATE
from voicecli.playback_monitor import PlaybackMonitor
from voicecli.vad import VadStream

WINDOW = SAMPLE_RATE  # 1 s of microphone correlated against the reference
MAX_DELAY = SAMPLE_RATE  # speaker -> microphone delays searched: 0 .. 1 s
ESTIMATE_EVERY = 8  # frames (0.25 s) between echo path estimates
SEARCH_EVERY = 3  # ... while the echo path is unknown
MIN_CORRELATION = 0.5
TAPS = 48  # echo path length modelled (3 ms), of which LEAD_TAPS before the bulk delay
LEAD_TAPS = 8  # a delay estimate is trusted above this normalised correlation
PREROLL = 4  # frames kept before a speech onset (Silero reacts a little late)
MAX_GAP = 3  # non-speech frames tolerated inside one stretch of speech
NOISE_FLOOR = 0.003  # residual RMS below this is never speech (about -50 dBFS)
ECHO_MARGIN = 0.5  # the residual must exceed this fraction of the expected echo's RMS
DEFAULT_PATH_S = 0.5  # assumed beyond the output buffer until the echo path is measured
MODEL_WRONG = 1.1  # a residual louder than the microphone means the echo model is stale

Released = list[tuple[np.ndarray, float]]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _least_squares_taps(reference: np.ndarray, mic: np.ndarray) -> np.ndarray:
    """Taps h minimising |mic[i] - sum_j h[j] reference[i + j]|^2 (ridge-regularised).

    The normal equations are built from running sums rather than a (window x taps) matrix:
    no BLAS call, so no thread pool competing with whisper for the cores."""
    window = len(mic)
    cross = np.correlate(reference, mic, "valid").astype(np.float64)
    gram = np.empty((TAPS, TAPS))
    for lag in range(TAPS):
        products = reference[: len(reference) - lag] * reference[lag:]
        prefix = np.concatenate(([0.0], np.cumsum(products, dtype=np.float64)))
        j = np.arange(TAPS - lag)
        gram[j, j + lag] = gram[j + lag, j] = prefix[j + window] - prefix[j]
    gram += np.eye(TAPS) * (1e-3 * np.trace(gram) / TAPS + 1e-9)
    return np.linalg.solve(gram, cross).astype(np.float32)


class EchoGuard:
    def __init__(
        self,
        monitor: PlaybackMonitor,
        *,
        barge_in: bool,
        on_barge_in: Callable[[float, float], None],
        min_speech_s: float = 0.3,
        tail_s: float = 0.3,
        vad_engine: str = "onnx",
    ) -> None:
        self.monitor = monitor
        self.barge_in = barge_in
        self.on_barge_in = on_barge_in  # (speech_ms, wall of the deciding frame)
        self.min_frames = max(1, math.ceil(min_speech_s * SAMPLE_RATE / FRAME))
        self.tail_s = tail_s
        self._vad = VadStream(vad_engine) if barge_in else None
        self._mic = np.zeros(WINDOW, dtype=np.float32)  # last second of microphone
        self._mic_count = 0
        self.delay: int | None = None  # mic index - reference index of the same sound
        self.taps = np.zeros(TAPS, dtype=np.float32)  # the echo path around that delay
        self._since_estimate = ESTIMATE_EVERY
        self._waiting: deque[tuple[np.ndarray, float]] = deque()
        self._run = 0  # speech frames in _waiting
        self._gap = 0
        self._barged = False
        self._reply_seen = 0
        self._breaks_seen = 0
        self._was_busy = False
        self.gated_frames = 0  # frames replaced by silence (tests and the report read these)
        self.triggers = 0

    def process(self, samples: np.ndarray, wall: float, reference_count: int) -> Released:
        """One microphone frame in; the frames the listener should get now out."""
        self._mic = np.concatenate((self._mic[len(samples) :], samples))
        self._mic_count += len(samples)
        busy = self._busy()
        if self.monitor.replies != self._reply_seen:  # a new reply: re-arm
            self._reply_seen = self.monitor.replies
            self._barged = False
        if self.monitor.breaks != self._breaks_seen:  # the stream restarted: new echo path
            self._breaks_seen = self.monitor.breaks
            self.delay = None
        if not busy:
            self._was_busy = False
            flushed = [(s, w) for s, w in self._waiting]
            self._waiting.clear()
            self._run = self._gap = 0
            return [*flushed, (self._cancel(samples), wall)]
        if not self._was_busy:
            self._was_busy = True
            if self._vad is not None:
                self._vad.reset()
        self._since_estimate += 1
        if self._since_estimate >= (ESTIMATE_EVERY if self.delay is not None else SEARCH_EVERY):
            self._estimate(reference_count)
        if not self.barge_in:
            self.gated_frames += 1
            return [(np.zeros_like(samples), wall)]
        residual = self._cancel(samples)
        if self._barged:
            return [(residual, wall)]
        return self._detect(residual, wall)

    # -- echo model ------------------------------------------------------------------------
    def _busy(self) -> bool:
        """Is the assistant's voice (or its echo) still reaching the microphone? Counted in
        samples once the echo path is known (immune to callback jitter), else in time."""
        if self.monitor.pending:
            return True
        if self.delay is not None:
            heard_up_to = self._mic_count - self.delay  # reference index reaching the mic now
            return heard_up_to < self.monitor.last_audible_count + self.tail_s * SAMPLE_RATE
        return self.monitor.busy(self.tail_s + self.monitor.latency_s + DEFAULT_PATH_S)

    def _estimate(self, reference_count: int) -> None:
        """Find the bulk delay (peak of the normalised cross-correlation of microphone and
        reference), then fit a short echo path around it by least squares: the taps absorb
        fractional delays, resampler differences and short reflections."""
        self._since_estimate = 0
        offset = self._mic_count - reference_count  # the delay if the path were instantaneous
        reference = self.monitor.window(reference_count, WINDOW + MAX_DELAY)
        energy = float(np.dot(reference, reference))
        mic_energy = float(np.dot(self._mic, self._mic))
        if energy < 1e-3 or mic_energy < 1e-4:
            return
        size = 1 << (2 * WINDOW + MAX_DELAY).bit_length()
        spectrum = np.fft.rfft(reference, size) * np.conj(np.fft.rfft(self._mic, size))
        corr = np.fft.irfft(spectrum, size)[: MAX_DELAY + 1]  # corr[s]: reference[s : s+WINDOW]
        sliding = np.concatenate(([0.0], np.cumsum(np.square(reference, dtype=np.float64))))
        seg_energy = sliding[WINDOW : WINDOW + MAX_DELAY + 1] - sliding[: MAX_DELAY + 1]
        normalised = corr / np.sqrt(np.maximum(seg_energy, 1e-9) * mic_energy)
        best = int(np.argmax(normalised))
        if normalised[best] < MIN_CORRELATION:
            return
        delay = offset + MAX_DELAY - best
        reference = self._reference_for(delay, WINDOW)
        self.taps = _least_squares_taps(reference, self._mic)
        self.delay = delay

    def _reference_for(self, delay: int, n: int) -> np.ndarray:
        """The reference samples that explain the last ``n`` microphone samples (with the
        extra ``TAPS - 1`` the echo path reaches back and forth)."""
        return self.monitor.window(self._mic_count - delay + LEAD_TAPS, n + TAPS - 1)

    def _cancel(self, samples: np.ndarray) -> np.ndarray:
        if self.delay is None:
            return samples
        echo = np.correlate(self._reference_for(self.delay, len(samples)), self.taps, "valid")
        residual = samples - echo
        if _rms(residual) > MODEL_WRONG * _rms(samples):  # subtracting added energy: the echo
            self._since_estimate = ESTIMATE_EVERY  # path moved; estimate again, pass as is
            return samples
        return residual

    # -- barge-in decision -----------------------------------------------------------------
    def _is_speech(self, residual: np.ndarray, mic: np.ndarray) -> bool:
        probability = self._vad.probability(residual)
        if self.delay is None:  # echo path unknown yet: the user cannot be told apart
            return False
        level = _rms(residual)
        echo_level = _rms(mic - residual)
        return probability >= 0.5 and level >= max(NOISE_FLOOR, ECHO_MARGIN * echo_level)

    def _detect(self, residual: np.ndarray, wall: float) -> Released:
        mic = self._mic[-len(residual) :]
        speech = self._is_speech(residual, mic)
        self._waiting.append((residual, wall))
        released: Released = []
        if speech:
            self._run += 1
            self._gap = 0
        elif self._run:
            self._gap += 1
            if self._gap > MAX_GAP:  # too short to be the user: a click, a cough
                released = [(np.zeros_like(s), w) for s, w in self._waiting]
                self._waiting.clear()
                self._run = self._gap = 0
        while self._run == 0 and len(self._waiting) > PREROLL:
            s, w = self._waiting.popleft()
            released.append((np.zeros_like(s), w))
        self.gated_frames += len(released)
        if self._run >= self.min_frames:
            self._barged = True
            self.triggers += 1
            self.on_barge_in(self._run * FRAME / SAMPLE_RATE * 1000, wall)
            released += list(self._waiting)
            self._waiting.clear()
            self._run = self._gap = 0
        return released
