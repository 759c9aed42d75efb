"""The echo guard: the assistant must not hear (and answer) its own voice.

Why: on speakers the microphone hears every reply. When the WebRTC echo canceller loads
(``voicecli.audio.echo_canceller``, from the ``livekit`` wheel) the microphone reaches the guard
already cancelled (``canceller``): the guard's own echo model stays off and only its gate and
barge-in decision run, once the canceller has settled on the reply playing; what it hands the
listener of a barge-in is the canceller's linear output where that is ready (``heard``), and
speech there counts where the linear filter finds more than echo (the module's suppressor
takes a voice over the reply to silence at times).
Without it, the guard works on the exact signal the speaker sent (PlaybackMonitor):

* default: while a reply is audible (plus an echo tail) the microphone is gated -- the listener
  gets silence, so the assistant never transcribes itself, and cannot be interrupted;
* ``--barge-in``: the bulk delay from speaker to microphone is found by cross-correlating the
  microphone with the reference, a short echo path around it is fitted by least squares and
  subtracted, and what is left is the user. Speech in that residual (Silero VAD, with more
  energy in the microphone than the echo model predicts) lasting ``min_speech_s`` cuts
  playback and is handed to the listener from its onset; a shorter sound (a click, a cough)
  is dropped -- unless it is a word, which is transcribed and, if it says "stop", stops the
  speech too.

Limits: a 3 ms echo path around one delay models a linear, stable path with little
reverberation (a virtual loopback, a laptop's speakers at low volume), and the user must be
about as loud as the echo. A reverberant room leaves a residual that may
read as speech: with loud speakers use headphones, or leave barge-in off (the default).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np

from voicecli.audio.echo_canceller import NOISE_FLOOR, MonitoredCanceller
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.audio.vad import VadStream
from voicecli.core.audio_format import FRAME, SAMPLE_RATE

WINDOW = SAMPLE_RATE  # 1 s of microphone correlated against the reference
MAX_DELAY = SAMPLE_RATE  # speaker -> microphone delays searched: 0 .. 1 s
ESTIMATE_EVERY = 8  # frames (0.25 s) between echo path estimates
SEARCH_EVERY = 3  # ... while the echo path is unknown
MIN_CORRELATION = 0.5
TAPS = 48  # echo path length modelled (3 ms), of which LEAD_TAPS before the bulk delay
LEAD_TAPS = 8  # a delay estimate is trusted above this normalised correlation
LOOKBACK = 16  # frames held before a speech onset (0.5 s): Silero reacts late, and the
# start of what the user says must reach the listener once it proves to be a barge-in
MAX_GAP = 3  # non-speech frames tolerated inside one stretch of speech
# ... when the microphone is echo-cancelled: while both talk, WebRTC's suppressor dips the
# user's voice to silence for up to a few hundred ms (benchmarks/DUPLEX.md, live captures)
CANCELLED_MAX_GAP = 12
MIN_SPEECH_S = 0.3  # speech over a reply lasting this long is a barge-in (behind the
# canceller too: 0.25 s found 1-3 more of 20 in replays, none live, and falsely paused replies
# on its residual in full test runs: benchmarks/DUPLEX.md)
SHORT_WORD_FRAMES = 5  # a shorter stretch (160 ms voiced) is never checked for "stop"
BLOCK = 128  # samples per keep-or-subtract decision (8 ms)
NEAR_END_RATIO = 1.25  # microphone RMS over predicted echo RMS when the user talks too
# Behind the canceller: a frame of which it let through this fraction of the power (it removes
# 20 dB and more of echo alone) holds more than the echo -- speech, if the VAD hears any
KEPT_POWER = 0.01
FAINT_SPEECH = 0.1  # VAD probability enough for such a frame (the suppressor distorts it)
DEFAULT_PATH_S = 0.5  # assumed beyond the output buffer until the echo path is measured

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
        on_short_speech: Callable[[np.ndarray, float], None] | None = None,
        min_speech_s: float = MIN_SPEECH_S,
        tail_s: float = 0.3,
        vad_engine: str = "onnx",
        canceller: MonitoredCanceller | None = None,
    ) -> None:
        self.monitor = monitor
        # the microphone arrives echo-cancelled (no echo model here); the canceller says
        # whether it has settled on what plays now (no barge-in before)
        self.canceller = canceller
        self.barge_in = barge_in
        self.on_barge_in = on_barge_in  # (speech_ms, wall of the deciding frame)
        self.on_short_speech = on_short_speech  # (audio, wall): a word too short to barge in
        self.min_frames = max(1, math.ceil(min_speech_s * SAMPLE_RATE / FRAME))
        self.tail_s = tail_s
        self._vad = VadStream(vad_engine) if barge_in else None
        # ... and on the canceller's linear output, which keeps a voice the module suppresses
        self._linear_vad = VadStream(vad_engine) if barge_in and canceller is not None else None
        self._mic = np.zeros(WINDOW, dtype=np.float32)  # last second of microphone
        self._mic_count = 0
        self.delay: int | None = None  # mic index - reference index of the same sound
        self.taps = np.zeros(TAPS, dtype=np.float32)  # the echo path around that delay
        self._since_estimate = ESTIMATE_EVERY
        self._waiting: deque[tuple[np.ndarray, float]] = deque()
        self._voiced = 0  # voiced frames in the stretch of speech being judged
        self._span = 0  # frames from its first voiced frame to its latest
        self._gap = 0  # unvoiced frames since the latest
        self._barged = False
        self._max_gap = CANCELLED_MAX_GAP if canceller is not None else MAX_GAP
        self._reply_seen = 0
        self._breaks_seen = 0
        self._stale = False
        self._underruns_seen = 0
        self._was_busy = False
        self.gated_frames = 0  # frames replaced by silence (tests and the report read these)
        self.triggers = 0

    def process(
        self,
        samples: np.ndarray,
        wall: float,
        reference_count: int,
        heard: np.ndarray | None = None,
    ) -> Released:
        """One microphone frame in; the frames the listener should get now out. ``heard``:
        the same frame for the listener while the reply plays (the canceller's linear output:
        its module's suppressor distorts a voice over the reply, which whisper mishears); a
        barge-in is decided on ``samples`` and, where the linear filter finds more than echo,
        on ``heard`` too."""
        self._mic = np.concatenate((self._mic[len(samples) :], samples))
        self._mic_count += len(samples)
        busy = self._busy()
        if self.monitor.breaks != self._breaks_seen:  # the stream restarted (a cut): what was
            self._breaks_seen = self.monitor.breaks  # heard still follows the old path, what
            self._stale = True  # comes next may not -- re-measure at the next reply
        if self.monitor.underruns != self._underruns_seen:  # the output ran dry: the echo
            self._underruns_seen = self.monitor.underruns  # path moved, find it again before
            self.delay = None  # anything is taken for the user
        if self.monitor.replies != self._reply_seen:  # a new reply: re-arm
            self._reply_seen = self.monitor.replies
            self._barged = False
            if self._stale:
                self.delay, self._stale = None, False
        if not busy:
            self._was_busy = False
            # what was held: the start of the user's words if they began speaking, else echo
            flushed = [(s if self._voiced else np.zeros_like(s), w) for s, w in self._waiting]
            self._waiting.clear()
            self._voiced = self._span = self._gap = 0
            return [*flushed, (self._cancel(samples), wall)]
        if not self._was_busy:
            self._was_busy = True
            for vad in (self._vad, self._linear_vad):
                if vad is not None:
                    vad.reset()
        self._since_estimate += 1
        due = self._since_estimate >= (ESTIMATE_EVERY if self.delay is not None else SEARCH_EVERY)
        if due and not self._barged and not self._voiced and self.canceller is None:  # never fit
            self._estimate(reference_count)  # while the user talks: it would bend the model
        if not self.barge_in:
            self.gated_frames += 1
            return [(np.zeros_like(samples), wall)]
        echo = self._predicted_echo(len(samples))
        residual = self._cancel(samples, echo)
        listened = residual if heard is None else heard
        if self._barged:
            return [(listened, wall)]
        return self._detect(samples, residual, echo, wall, heard)

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

    def _predicted_echo(self, n: int) -> np.ndarray:
        """What the echo model expects the microphone to hear of the speaker (zeros while
        the echo path is unknown)."""
        if self.delay is None:
            return np.zeros(n, dtype=np.float32)
        return np.correlate(self._reference_for(self.delay, n), self.taps, "valid")

    def _cancel(self, samples: np.ndarray, echo: np.ndarray | None = None) -> np.ndarray:
        """The microphone minus the predicted echo. Where subtracting adds energy, that echo
        never came (its audio was dropped by a cut, or the path moved): the microphone is
        kept there, decided per 8 ms block so a frame straddling the end of what was heard
        is handled."""
        if self.delay is None:
            return samples
        if echo is None:
            echo = self._predicted_echo(len(samples))
        residual = samples - echo
        if len(residual) % BLOCK:
            return samples if _rms(residual) > _rms(samples) else residual
        blocks, raw = residual.reshape(-1, BLOCK), samples.reshape(-1, BLOCK)
        worse = np.einsum("ij,ij->i", blocks, blocks) > np.einsum("ij,ij->i", raw, raw)
        return np.where(worse[:, None], raw, blocks).reshape(-1)

    # -- barge-in decision -----------------------------------------------------------------
    def _is_speech(
        self, residual: np.ndarray, mic: np.ndarray, echo: np.ndarray, linear: np.ndarray | None
    ) -> bool:
        """The user is talking in this frame: the residual sounds like speech, and the
        microphone holds more energy than the echo model predicts (a stale model misplaces
        the echo, leaving a speech-like residual, but does not add energy)."""
        probability = self._vad.probability(residual)
        if self.canceller is not None:  # echo-cancelled, once settled: speech starts above
            # the noise floor, but then the VAD alone carries it (the canceller's suppressor
            # dips your voice to silence for a frame or two while both talk); or the frame
            # kept much more than echo leaves and sounds faintly like speech; or the linear
            # filter finds more than echo and its output sounds like speech (a voice the
            # suppressor took to silence: benchmarks/DUPLEX.md, eighth run)
            loud = _rms(residual) >= NOISE_FLOOR
            heard = probability >= 0.5 and (loud or self._voiced > 0)
            kept = loud and probability >= FAINT_SPEECH and self.canceller.passed() >= KEPT_POWER
            return (heard or kept or self._linear_speech(linear)) and self.canceller.settled()
        if self.delay is None:  # echo path unknown: cannot tell
            return False
        return (
            probability >= 0.5
            and _rms(residual) >= NOISE_FLOOR
            and _rms(mic) >= NEAR_END_RATIO * _rms(echo)
        )

    def _linear_speech(self, linear: np.ndarray | None) -> bool:
        """Speech in the canceller's linear output, where it finds more than echo."""
        if linear is None:  # not ready: its VAD starts afresh when it is
            self._linear_vad.reset()
            return False
        return self._linear_vad.probability(linear) >= 0.5 and self.canceller.double_talk()

    def _detect(
        self,
        mic: np.ndarray,
        residual: np.ndarray,
        echo: np.ndarray,
        wall: float,
        linear: np.ndarray | None,
    ) -> Released:
        """Hold frames while deciding. Speech that has lasted ``min_speech_s`` (from its first
        voiced frame to the latest, pauses of up to MAX_GAP frames included -- CANCELLED_MAX_GAP
        behind the canceller -- at least half of it voiced) is a barge-in: everything held (up
        to LOOKBACK frames before it) goes to the listener. A stretch that pauses for MAX_GAP
        frames is offered as a short word ("stop"). What is not a barge-in leaves as silence
        once older than LOOKBACK."""
        speech = self._is_speech(residual, mic, echo, linear)
        self._waiting.append((residual if linear is None else linear, wall))
        released: Released = []
        if speech:
            self._voiced += 1
            self._span += self._gap + 1
            self._gap = 0
        elif self._voiced:
            self._gap += 1
            short = self._voiced >= SHORT_WORD_FRAMES and self.on_short_speech is not None
            if self._gap == MAX_GAP + 1 and short:  # a click, a cough -- or "stop"
                held = [s for s, _ in self._waiting][-(self._span + self._gap + 8) :]
                self.on_short_speech(np.concatenate(held), wall)
            if self._gap > self._max_gap:  # too short for a barge-in
                # not released yet: if more speech follows within LOOKBACK, these were its
                # first words ("what is ... seven times six"); else they leave as silence
                self._voiced = self._span = self._gap = 0
        while self._voiced == 0 and len(self._waiting) > LOOKBACK:
            s, w = self._waiting.popleft()
            released.append((np.zeros_like(s), w))
        self.gated_frames += len(released)
        if self._span >= self.min_frames and 2 * self._voiced >= self._span:
            self._barged = True
            self.triggers += 1
            self.on_barge_in(self._span * FRAME / SAMPLE_RATE * 1000, wall)
            released += list(self._waiting)
            self._waiting.clear()
            self._voiced = self._span = self._gap = 0
        return released
