"""A linear echo canceller for what the listener transcribes while both talk.

Why a second canceller: WebRTC's module (``echo_canceller``) removes 40 dB and more of the
reply, but while the user talks over it its residual-echo suppressor cuts their voice to
pieces, and whisper turns the pieces into other words (benchmarks/DUPLEX.md: 72-121 % WER over
the reply against 4-14 % in silence). A linear filter never touches the near end: it subtracts
its estimate of the echo and leaves everything else as it was. Its residual holds more echo
than the module's; the listener gets this filter's output for the stretch of speech that barged
in, while the reply's echo still reaches the microphone, and the barge-in is decided on both
(``EchoCanceller.double_talk``: where this filter leaves more than echo).

The filter is a partitioned-block frequency-domain NLMS filter (overlap-save, ``PARTS`` blocks
of ``BLOCK`` samples: 256 ms of echo path after the bulk delay), adapted only on blocks the
caller marks as echo alone and that the filter itself does not find fuller than its echo
estimate explains, so the user's voice does not bend it. The bulk delay is given by the
caller in absolute sample indices (microphone index - reference index of the same sound).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

BLOCK = 256  # samples per block (16 ms at 16 kHz)
PARTS = 16  # blocks of echo path modelled: 256 ms beyond the bulk delay
LEAD = 64  # samples modelled before the bulk delay (its estimate is not sample exact)
STEP = 0.5  # NLMS step size (divided among the partitions; 2 diverges on speech)
SMOOTHING = 0.9  # of the per-bin reference power the step is normalised by
REGULARISATION = 1e-6  # per-bin power floor (about -60 dBFS)
MOVE_TOLERANCE = 2  # samples: a re-measured delay within this is the same
ERLE_BLOCKS = 62  # blocks (about 1 s) of echo alone the ERLE is summed over
DOUBT_DB = 10.0  # a block left this much worse than the ERLE holds more than echo


def erle(energies) -> float:
    """dB of microphone power before over after cancellation, from (before, after) pairs."""
    before = sum(e[0] for e in energies)
    after = sum(e[1] for e in energies)
    return 10 * math.log10(max(before, 1e-12) / max(after, 1e-12))


class LinearEcho:
    """Feed ``reference`` with every sample played (in order: the stream the module gets)
    and ``process`` with every microphone sample; ``process`` returns the microphone minus
    the filter's echo estimate, as many samples as given, ``lag`` samples late."""

    def __init__(self, history: int, lag: int) -> None:
        if lag < BLOCK - 1:
            raise ValueError(f"a lag of {lag} samples cannot hold a block of {BLOCK}")
        self._ref = np.zeros(history, dtype=np.float32)  # the reference's last samples
        self.ref_total = 0  # reference samples received since the start
        self.mic_total = 0  # microphone samples received
        self._mic_pending = np.zeros(0, dtype=np.float32)
        self._out = np.zeros(lag, dtype=np.float32)
        self._stale = False
        self.offset: int | None = None  # microphone index - reference index of the same sound
        self._energies: deque[tuple[float, float]] = deque(maxlen=ERLE_BLOCKS)
        bins = BLOCK + 1
        self._spectra = np.zeros((PARTS, bins), dtype=np.complex128)  # newest first
        self._weights = np.zeros((PARTS, bins), dtype=np.complex128)
        self._previous = np.zeros(BLOCK)
        self._power = np.full(bins, REGULARISATION)
        self._constrained = 0  # partition whose gradient is constrained next (round robin)

    def recent(self, n: int) -> np.ndarray:
        """The reference's last ``n`` samples (``n`` up to the history)."""
        return self._ref[len(self._ref) - n :]

    def reference(self, samples: np.ndarray) -> None:
        n = min(len(samples), len(self._ref))
        self._ref = np.concatenate((self._ref[n:], samples[len(samples) - n :]))
        self.ref_total += len(samples)

    def locate(self, offset: int) -> None:
        """The bulk delay, measured: microphone index - reference index of the same sound.
        A new one (the output stream restarted, and samples written were never played)
        moves the filter along the reference; the room's echo path, which the filter learnt
        relative to that delay, is kept."""
        if self.offset is not None and abs(offset - self.offset) <= MOVE_TOLERANCE:
            return
        self.offset = offset
        self._spectra[:] = 0.0
        self._previous[:] = 0.0
        self._energies.clear()

    def recheck(self) -> None:
        """The echo path moved: no ERLE until blocks after the move measure it."""
        self._energies.clear()

    def erle_db(self) -> float | None:
        """Echo removed over the last second of blocks adapted on (None: under half that)."""
        if len(self._energies) < ERLE_BLOCKS // 2:
            return None
        return erle(self._energies)

    def process(self, samples: np.ndarray, echo_alone: bool, active: bool = True) -> np.ndarray:
        """``echo_alone``: the caller knows these samples hold the echo and no one talking
        (only then does the filter adapt). Not ``active`` (nothing plays): the samples are
        counted and passed as they are, with no work done."""
        start = self.mic_total - len(self._mic_pending)  # index of the first pending sample
        pending = np.concatenate((self._mic_pending, samples.astype(np.float32)))
        whole = len(pending) - len(pending) % BLOCK
        out = [self._out]
        for at in range(0, whole, BLOCK):
            block = pending[at : at + BLOCK]
            out.append(self._block(block, start + at, echo_alone) if active else block)
            self._stale = not active  # the reference history skipped these
        self._mic_pending = pending[whole:]
        self.mic_total += len(samples)
        flat = np.concatenate(out)
        self._out = flat[len(samples) :]
        return flat[: len(samples)]

    def _block(self, mic: np.ndarray, index: int, adapt: bool) -> np.ndarray:
        """One block of microphone samples starting at microphone ``index``."""
        if self.offset is None:
            return mic
        first = index - self.offset + LEAD  # its reference, LEAD late: taps 0..LEAD model echo
        back = self.ref_total - first
        if back < BLOCK or back > len(self._ref):  # not played yet, or too old: no estimate
            return mic
        ref = self._ref[len(self._ref) - back : len(self._ref) - back + BLOCK].astype(np.float64)
        if self._stale:  # blocks were skipped: the spectra held are not the ones before this
            self._spectra[:] = 0.0
            self._previous[:] = 0.0
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = np.fft.rfft(np.concatenate((self._previous, ref)))
        self._previous = ref
        estimate = np.fft.irfft((self._weights * self._spectra).sum(axis=0))[BLOCK:]
        error = mic - estimate
        self._power = SMOOTHING * self._power + (1 - SMOOTHING) * np.abs(self._spectra[0]) ** 2
        mic_energy, error_energy = float(np.dot(mic, mic)), float(np.dot(error, error))
        if adapt and self._double_talk(mic_energy, error_energy):
            adapt = False  # the module took the user's voice for echo: it is not
        if adapt:
            gradient = np.fft.rfft(np.concatenate((np.zeros(BLOCK), error)))
            step = STEP / PARTS / (self._power + REGULARISATION)
            self._weights += step * np.conj(self._spectra) * gradient
            k = self._constrained  # keep one partition's impulse response causal per block
            taps = np.fft.irfft(self._weights[k])
            taps[BLOCK:] = 0.0
            self._weights[k] = np.fft.rfft(taps)
            self._constrained = (k + 1) % PARTS
            self._energies.append((mic_energy, error_energy))
        return error.astype(np.float32)

    def _double_talk(self, mic_energy: float, error_energy: float) -> bool:
        """More left of this block than the filter leaves of echo (DOUBT_DB worse than its
        ERLE): someone talks. The module's own signal does not tell (its suppressor takes a
        voice over the reply to silence, as if it were all echo)."""
        erle = self.erle_db()
        if erle is None or mic_energy <= 0.0:
            return False
        return error_energy > mic_energy * 10 ** ((DOUBT_DB - erle) / 10)
