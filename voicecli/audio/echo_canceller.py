"""WebRTC echo cancellation (from the ``livekit`` wheel) around voicecli's float frames.

Why a wrapper: ``livekit.rtc.AudioProcessingModule`` takes int16 ``AudioFrame``s whose length
is a multiple of 10 ms, and **any other length aborts the whole process in native code** (no
Python exception). voicecli's frames are 32 ms (512 samples), so this module cuts every
stream into 160-sample pieces and checks each length in Python before every native call.
The microphone output lags its input by a constant 18 ms (one 10 ms piece held here, 8 ms
inside the module), so every call returns as many samples as it was given.

Native threads: creating the first module starts three native threads (not ManagedThreads,
invisible to ``threading.enumerate()``) that live until the process exits. They are exempt
from voicecli's thread checks: those list Python threads only (tests/conftest.py says so).
The module also refuses use after ``fork``: create it in the process that uses it.

Beside the module runs a linear filter (``linear_echo``) on the same two streams: while both
talk the module's suppressor cuts the user's voice to pieces, so the words of a barge-in reach
the listener through the linear filter (``linear_output``) once it removes LINEAR_READY_DB of
the echo, and a frame where the filter leaves more than echo (``double_talk``) counts towards
a barge-in with the module's own output.

The module reports neither the echo return loss enhancement (ERLE) nor the delay, so both are
measured here: ERLE is the microphone power before over after processing, summed over the
last second of pieces during which the speaker played; the delay is the peak of the
cross-correlation of the speaker's output and the microphone, and is passed on as the
module's delay hint and (in stream indices, where it does not jitter with the speaker's
blocks) as the linear filter's bulk delay.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voicecli.audio.linear_echo import DOUBT_DB, LinearEcho, erle
from voicecli.audio.playback_monitor import HISTORY_S, PlaybackMonitor
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.events import Echo, Event

PIECE = SAMPLE_RATE // 100  # 160 samples: the only length the module accepts (10 ms)
ERLE_WINDOW = 100  # pieces (1 s) the ERLE is summed over
ACTIVE_POWER = 1e-6  # reference mean square above this (about -60 dBFS): the speaker plays
CONVERGED_DB = 15.0  # ERLE above this over the last second: the canceller has converged
DELAY_WINDOW = SAMPLE_RATE  # 1 s of microphone correlated against the reference
MAX_DELAY_MS = 500
DELAY_EVERY = 50  # pieces (0.5 s) between delay estimates
MIN_CORRELATION = 0.3
EVENT_EVERY = SAMPLE_RATE // FRAME  # microphone frames (~1 s) between looks at the state
SETTLED_PIECES = 50  # 500 ms of heard echo at SETTLED_DB: settled on the current path
# ... after the path moved (the output ran dry: the device played silence the reference does
# not hold), until settled again: the module lets echo onsets through for a second or more
# after cancelling well at first, as after a simulated jump of the delay and, live, after
# every cut before a cut took back what the aborted stream never played (benchmarks/DUPLEX.md)
MOVED_SETTLED_PIECES = 150
SETTLED_DB = 20.0
# ... or, over twice as long (longer than any output latency), the microphone heard this far
# below what played (power, dB): no echo path to cancel (headphones), so speech in the output
# can only be the user's
NO_ECHO_DB = 35.0
# With nothing playing the module has nothing to remove but still changes the audio (it
# high-passes below 100 Hz and re-filters the rest; benchmarks/ECHO.md), so the raw microphone
# passes through once nothing has played for this long -- beyond the echo tail -- while the
# module keeps adapting.
BYPASS_AFTER_S = 0.5
MODULE_LAG = 128  # samples (8 ms) the module's output lags its input: the raw path matches it
# The linear filter (linear_echo) adapts on pieces of which the module let through less than
# this fraction of the power: echo alone (it removes 20 dB and more of echo alone)
ECHO_ALONE = 0.01
LINEAR_READY_DB = 10.0  # its ERLE before the listener may get its output (linear_output)
# Its vote on a barge-in (double_talk): only from this ERLE on, and on frames of which it left
# less than LEFT_OF_MIC of the power (a misaligned filter adds its estimate instead). In replays
# of live captures these kept 19 / 18 of 20 questions and took false detections from 1 to 0;
# live, a filter converging at 13-22 dB while the delay wandered paused a reply under load
NOISE_FLOOR = 0.003  # RMS below which a frame is never a voice (about -50 dBFS; the guard too)
LINEAR_VOTE_DB = 15.0
LEFT_OF_MIC = 0.8


class EchoUnavailable(RuntimeError):
    """The WebRTC module cannot load here; the message says why in one line."""


def load_module():
    """``livekit.rtc.AudioProcessingModule`` and ``AudioFrame``, imported on first use (the
    native library is 28 MB); ``EchoUnavailable`` with the reason where it cannot load."""
    try:
        from livekit.rtc import AudioFrame, AudioProcessingModule
    except ImportError as exc:
        raise EchoUnavailable(
            f"WebRTC echo cancellation unavailable ({exc}); install it with "
            "`pip install 'livekit>=1.2,<2'` (wheels: Linux x86_64/aarch64, macOS arm64, Windows)"
        ) from None
    except OSError as exc:  # the wheel installed but its native library does not load
        raise EchoUnavailable(f"WebRTC echo cancellation cannot load its library: {exc}") from None
    return AudioProcessingModule, AudioFrame


def unavailable_reason() -> str | None:
    """None when the module loads, else the one-line reason (doctor, models, the notice)."""
    try:
        load_module()
    except EchoUnavailable as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class EchoStats:
    delay_ms: float | None  # measured speaker-to-microphone delay (None: not measured yet)
    erle_db: float | None  # over the last second the speaker played (None: it did not)
    state: str  # "idle" (nothing played), "converging", "converged"


def _to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))


def measure_delay(reference: np.ndarray, mic: np.ndarray, max_delay: int) -> int | None:
    """Samples by which ``mic`` lags ``reference`` (same length, same clock): the peak of
    their normalised cross-correlation over 0..max_delay, None when nothing correlates."""
    n = len(mic)
    size = 1 << (2 * n).bit_length()
    corr = np.fft.irfft(np.fft.rfft(mic, size) * np.conj(np.fft.rfft(reference, size)), size)
    corr = corr[: max_delay + 1]
    norm = math.sqrt(float(np.dot(reference, reference)) * float(np.dot(mic, mic)))
    if norm < 1e-9:
        return None
    best = int(np.argmax(np.abs(corr)))
    return best if abs(corr[best]) / norm >= MIN_CORRELATION else None


class EchoCanceller:
    """One microphone stream and the speaker output it hears, through the WebRTC module.

    ``reverse`` takes what the speaker plays (16 kHz float, any length) and ``process`` the
    microphone (16 kHz float, any length, returned 18 ms late); call ``reverse`` with the
    output that was played up to the time the microphone frame was captured, then ``process``
    with that frame."""

    def __init__(
        self,
        *,
        noise_suppression: bool = False,
        high_pass_filter: bool = False,
        auto_gain_control: bool = False,
    ) -> None:
        module, self._frame_type = load_module()
        self._apm = module(
            echo_cancellation=True,
            noise_suppression=noise_suppression,
            high_pass_filter=high_pass_filter,
            auto_gain_control=auto_gain_control,
        )
        self._rev_pending = np.zeros(0, dtype=np.int16)
        self._mic_pending = np.zeros(0, dtype=np.int16)
        self._out = deque([np.zeros(PIECE, dtype=np.float32)])  # the constant 10 ms lag
        self._raw = np.zeros(PIECE + MODULE_LAG, dtype=np.int16)  # for bypass, as late
        # the microphone's last second, time-aligned with the reference's (linear.recent)
        self._mic_hist = np.zeros(DELAY_WINDOW, dtype=np.float32)
        self._energies: deque[tuple[float, float]] = deque(maxlen=ERLE_WINDOW)
        self._fresh: deque[tuple[float, float, float]] = deque(maxlen=2 * SETTLED_PIECES)
        # ... of those, the pieces in which the microphone heard something: the echo arrives
        # one output latency after the audio is played, and the silence before it (a faint
        # noise floor the module takes to zero) says nothing about cancelling it
        self._heard: deque[tuple[float, float]] = deque(maxlen=MOVED_SETTLED_PIECES)
        self._settle_pieces = SETTLED_PIECES
        self.settled = False  # converged on the audio played since the last ``unsettle``
        # ... on no echo at all (headphones): the module would only suppress the user's voice
        # while audio plays, so the raw microphone passes until the next ``unsettle``
        self.no_echo = False
        # the fraction of the microphone's power the module let through in the latest
        # ``process`` call: near 0 while it removes echo alone, higher where someone talks
        self.passed = 1.0
        self._recent_ref: deque[float] = deque(maxlen=30)  # 300 ms: the echo still arriving
        # what the listener hears of a barge-in (the module's suppressor distorts the voice
        # while both talk): the same microphone minus a linear echo estimate, as late
        self.linear = LinearEcho(2 * DELAY_WINDOW, PIECE + MODULE_LAG)
        self._linear_out: np.ndarray | None = None
        self._mic_tail = np.zeros(PIECE + MODULE_LAG, dtype=np.float32)  # the raw, as late
        self._double_talk = False
        self._mic_count = 0  # microphone samples in the history (the reference's: linear's)
        self._since_delay = DELAY_EVERY
        self.delay_ms: float | None = None

    def _frame(self, piece: np.ndarray):
        if len(piece) != PIECE:  # any other length aborts the process in native code
            raise ValueError(f"echo canceller piece of {len(piece)} samples, not {PIECE}")
        return self._frame_type(piece.tobytes(), SAMPLE_RATE, 1, PIECE)

    def reverse(self, samples: np.ndarray) -> None:
        """What the speaker played (the reverse stream), cut in 10 ms pieces."""
        pending = np.concatenate((self._rev_pending, _to_int16(samples)))
        whole = len(pending) - len(pending) % PIECE
        for start in range(0, whole, PIECE):
            piece = pending[start : start + PIECE]
            self._apm.process_reverse_stream(self._frame(piece))
            self._recent_ref.append(_power(piece / 32768.0))
        self._rev_pending = pending[whole:]
        self.linear.reference(samples.astype(np.float32))  # also the delay's reference history

    def process(self, samples: np.ndarray, bypass: bool = False, native: bool = True) -> np.ndarray:
        """One microphone frame in; as many echo-cancelled samples out (18 ms late).
        ``bypass``: the raw microphone is returned (with the same lag, so switching never
        skips or repeats audio); the module still processes the frame unless ``native`` is
        False (hands-free while idle: the module's cost is most of an asleep process's)."""
        pending = np.concatenate((self._mic_pending, _to_int16(samples)))
        whole = len(pending) - len(pending) % PIECE
        self._mic_pending = pending[whole:]
        # the raw path: one delay line (10 ms held here + the module's 8 ms), as late as the
        # module's output so that switching between them never skips or repeats audio
        stream = np.concatenate((self._raw, pending[:whole]))
        raw = stream[PIECE : PIECE + whole].astype(np.float32) / 32768.0
        self._raw = stream[whole:]
        before = after = 0.0
        self._linear_out, self._double_talk = None, False
        if bypass and not native:  # only the lag: no per-piece work, no history
            self._out.append(raw)
        else:  # the history pauses with the reference while the module is not run
            floats = samples.astype(np.float32)
            recent = floats[-DELAY_WINDOW:]
            self._mic_hist = np.concatenate((self._mic_hist[len(recent) :], recent))
            self._mic_count += len(samples)
            for start in range(0, whole, PIECE):
                piece = slice(start, start + PIECE)
                heard, kept = self._out_piece(pending[piece], raw[piece], bypass)
                before, after = before + heard, after + kept
            # the linear filter counts every sample the histories hold; it only filters while
            # a reply's echo may be under the user's voice, and adapts on the echo alone
            echo_alone = before > ACTIVE_POWER * (whole // PIECE) and after < ECHO_ALONE * before
            linear = self.linear.process(floats, echo_alone, not bypass)
            self._linear_out = None if bypass else linear
            late = np.concatenate((self._mic_tail, floats))
            self._mic_tail = late[len(floats) :]
            self._double_talk = self._linear_out is not None and self._more_than_echo(
                late[: len(floats)], linear
            )
        self.passed = after / before if before > 0 else 1.0
        n = len(samples)
        out = np.concatenate(list(self._out))
        self._out = deque([out[n:]])
        return out[:n]

    def _out_piece(self, piece: np.ndarray, raw: np.ndarray, bypass: bool) -> tuple[float, float]:
        """One 10 ms piece through the module; its power before and after."""
        self._since_delay += 1
        if self._since_delay >= DELAY_EVERY:
            self._since_delay = 0
            self._update_delay()
        if self.delay_ms is not None:
            self._apm.set_stream_delay_ms(int(round(self.delay_ms)))  # a hint, per call
        frame = self._frame(piece)
        self._apm.process_stream(frame)  # in place
        cleaned = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32) / 32768.0
        energies = (_power(piece / 32768.0), _power(cleaned))
        if self._recent_ref and max(self._recent_ref) > ACTIVE_POWER:
            self._energies.append(energies)
            self._fresh.append((*energies, max(self._recent_ref)))
            if energies[0] > ACTIVE_POWER:
                self._heard.append(energies)
            if len(self._fresh) >= SETTLED_PIECES and not self.settled:
                self._settle()
        self._out.append(raw if bypass or self.no_echo else cleaned)
        return energies

    def _settle(self) -> None:
        """Settled once the last 500 ms of echo heard were cancelled by SETTLED_DB, or the
        last second never reached the microphone (NO_ECHO_DB below what played: headphones)."""
        heard = list(self._heard)[-self._settle_pieces :]
        if len(heard) == self._settle_pieces and erle(heard) >= SETTLED_DB:
            self.settled = True
            return
        fresh = list(self._fresh)
        heard = sum(before for before, _, _ in fresh)
        played = sum(reference for _, _, reference in fresh)
        if len(fresh) == 2 * SETTLED_PIECES and heard <= played * 10 ** (-NO_ECHO_DB / 10):
            self.settled = self.no_echo = True

    def _update_delay(self) -> None:
        reference = self.linear.recent(DELAY_WINDOW)  # time-aligned with the microphone's
        if _power(reference) < ACTIVE_POWER:
            return
        lag = measure_delay(reference, self._mic_hist, MAX_DELAY_MS * SAMPLE_RATE // 1000)
        if lag is not None:
            self.delay_ms = lag * 1000 / SAMPLE_RATE
            # the two histories end at different points of their streams (the reference is
            # fed in the speaker's blocks): in stream indices the echo path does not jitter
            self.linear.locate(lag - (self.linear.ref_total - self._mic_count))

    def linear_output(self) -> np.ndarray | None:
        """The latest ``process`` call's microphone minus the linear filter's echo estimate
        (as late as its return value), once the filter removes LINEAR_READY_DB of the echo;
        None before, and while the raw microphone passes."""
        removed = self.linear.erle_db()
        if self._linear_out is None or removed is None or removed < LINEAR_READY_DB:
            return None
        return self._linear_out

    def _more_than_echo(self, mic: np.ndarray, residual: np.ndarray) -> bool:
        """The linear filter, well converged, left more of this frame than it leaves of echo
        alone (DOUBT_DB above what its ERLE predicts) and above the noise floor, and still
        took energy away: someone talks. A filter the echo path slid away from (the delay
        wanders under load) leaves a residual louder than the microphone itself."""
        removed = self.linear.erle_db()
        if removed is None or removed < LINEAR_VOTE_DB:
            return False
        left, heard = _power(residual), _power(mic)
        predicted = heard * 10 ** ((DOUBT_DB - removed) / 10)
        return max(predicted, NOISE_FLOOR**2) < left < LEFT_OF_MIC * heard

    def double_talk(self) -> bool:
        """The latest ``process`` call's frame holds more than the reply's echo, by the linear
        filter: a voice the module's suppressor may have taken to silence (the echo guard
        counts it towards a barge-in when the VAD hears speech in the linear output)."""
        return self._double_talk

    def unsettle(self, moved: bool = False) -> None:
        """The echo path may have moved (a new reply, a cut), or did (``moved``: a starved
        output stream): not settled until 500 ms (moved, and every call until then: 1.5 s) of
        the echo of what plays next is cancelled by 20 dB again. The user's voice lowers the
        measured ERLE, so once settled it stays so until the next call."""
        moved = moved or (not self.settled and self._settle_pieces == MOVED_SETTLED_PIECES)
        self._settle_pieces = MOVED_SETTLED_PIECES if moved else SETTLED_PIECES
        if moved:  # its delay changed: the linear filter proves itself again
            self.linear.recheck()
        self.settled = self.no_echo = False
        self._fresh.clear()
        self._heard.clear()

    def stats(self) -> EchoStats:
        """Delay, ERLE over the last second the speaker played, and the state."""
        if not self._energies:
            return EchoStats(self.delay_ms, None, "idle")
        removed = erle(self._energies)
        state = "converged" if removed >= CONVERGED_DB else "converging"
        return EchoStats(self.delay_ms, round(removed, 1), state)


class MonitoredCanceller:
    """The canceller on a live microphone: the reverse stream is taken from the speaker's
    PlaybackMonitor -- every sample played up to the moment a microphone block was captured,
    fed before that block -- and the measured state goes out as ``echo`` events, about once
    a second while it changes. While nothing has played for ``BYPASS_AFTER_S`` (beyond the
    output's latency) the raw microphone passes through."""

    def __init__(
        self,
        canceller: EchoCanceller,
        monitor: PlaybackMonitor,
        emit: Callable[[Event], None],
        idle_native: bool = True,
    ) -> None:
        self.canceller = canceller
        self.monitor = monitor
        self.emit = emit
        self.idle_native = idle_native  # False: while idle the module is not called at all
        self._fed: int | None = None  # reference samples already given to the canceller
        self._frames = 0
        self._last: EchoStats | None = None
        self._replies = -1  # replies seen: the echo path may have moved
        self._breaks = 0  # output stream restarts seen: so may it
        self._underruns = 0  # ... and underruns: it did

    def settled(self) -> bool:
        """Converged on the audio played since the echo path last may have moved: only then
        can speech in the output be the user's (the echo guard asks before a barge-in)."""
        return self.canceller.settled

    def passed(self) -> float:
        """The fraction of the latest frame's microphone power the module let through."""
        return self.canceller.passed

    def linear_output(self) -> np.ndarray | None:
        """The latest frame minus the linear filter's echo estimate, once it is good enough
        for the listener (EchoCanceller.linear_output)."""
        return self.canceller.linear_output()

    def double_talk(self) -> bool:
        """More than echo in the latest frame, by the linear filter (EchoCanceller.double_talk)."""
        return self.canceller.double_talk()

    def process(self, samples: np.ndarray, reference_count: int) -> np.ndarray:
        seen = (self.monitor.replies, self.monitor.breaks, self.monitor.underruns)
        if seen != (self._replies, self._breaks, self._underruns):
            self.canceller.unsettle(moved=seen[2] != self._underruns)
            self._replies, self._breaks, self._underruns = seen
        if self._fed is None:
            self._fed = reference_count
        idle = not self.monitor.busy(BYPASS_AFTER_S + self.monitor.latency_s)
        native = self.idle_native or not idle
        fresh = min(reference_count - self._fed, int(HISTORY_S * SAMPLE_RATE))
        if fresh > 0 and native:  # skipped idle: both streams pause together
            self.canceller.reverse(self.monitor.window(reference_count, fresh))
        self._fed = max(self._fed, reference_count)
        out = self.canceller.process(samples, bypass=idle, native=native)
        if self._frames % EVENT_EVERY == 0:
            stats = self.canceller.stats()
            if stats != self._last:
                self._last = stats
                self.emit(Echo(delay_ms=stats.delay_ms, erle_db=stats.erle_db, state=stats.state))
        self._frames += 1
        return out
