"""The microphone source: 16 kHz mono frames from a sound device, never blocking capture.

Why this shape: PortAudio calls back on its own thread, which must never wait. The callback
only copies the block onto a small bounded queue (a full queue drops the block and counts
it); the source's ManagedThread re-chunks to 512-sample frames, cancels the speaker's echo
(WebRTC, when it loads), applies mute, push-to-talk and the echo guard, measures the input
level and offers the frames to the listener, again without blocking. Drops are reported as
``warning`` events (code ``capture_overflow``), at most once a second.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from voicecli.audio.devices import open_error, pick, sounddevice
from voicecli.audio.echo_canceller import MonitoredCanceller
from voicecli.audio.echo_guard import EchoGuard
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.audio.source import AudioSource
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.events import Event, Level, MicState, WarningEvent
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import Frame, SourceMessage

RAW_QUEUE = 64  # blocks between the PortAudio callback and the source thread (~2 s)
LEVEL_EVERY = 3  # frames per ``level`` event (~100 ms)
WARN_EVERY_S = 1.0
RawBlock = tuple[np.ndarray, float, int]  # samples, capture time, speaker reference count


def _db(value: float) -> float:
    """dBFS of a level in [0, 1] (a clipping input counts as 1), -100 for digital silence."""
    return round(20 * math.log10(min(value, 1.0)), 1) if value > 1e-5 else -100.0


class MicSource(AudioSource):
    live = True

    def __init__(
        self,
        device: str | None = None,
        *,
        emit: Callable[[Event], None] | None = None,
        guard: EchoGuard | None = None,
        monitor: PlaybackMonitor | None = None,
        push_to_talk: bool = False,
        canceller: MonitoredCanceller | None = None,
        block_frames: int = 1,
    ) -> None:
        sd = sounddevice()
        self.device = pick(device, "input")
        self.name = f"mic:{self.device.name}"
        try:
            sd.check_input_settings(self.device.index, channels=1, samplerate=SAMPLE_RATE)
            self.rate = SAMPLE_RATE
        except (sd.PortAudioError, ValueError):
            self.rate = self.device.rate  # resampled to 16 kHz in the source thread
        self.emit = emit or (lambda _event: None)
        self.guard = guard
        self.monitor = monitor or (guard.monitor if guard else None)
        self.push_to_talk = push_to_talk
        self.canceller = canceller
        # frames per PortAudio block: hands-free listening asks for the wake-word gate's batch,
        # a third of the wake-ups of the capture threads while asleep (docs/wake.md)
        self.block_frames = block_frames
        # sees every echo-cancelled frame while listening (the wake word over a reply:
        # pipeline/wake_interrupt.py); set before the source starts
        self.tap: Callable[[np.ndarray, float], None] | None = None
        self.muted = False
        self.talking = not push_to_talk  # push-to-talk starts closed
        self.dropped = 0
        self._reported = 0
        self._raw: queue.Queue[RawBlock] = queue.Queue(RAW_QUEUE)
        self._state_lock = threading.Lock()

    # -- controls (keys) -------------------------------------------------------------------
    @property
    def listening(self) -> bool:
        return self.talking and not self.muted

    def toggle_mute(self) -> None:
        with self._state_lock:
            self.muted = not self.muted
        self._state_changed()

    def toggle_talk(self) -> None:
        """Push-to-talk: space opens, space closes (terminals report no key releases)."""
        with self._state_lock:
            self.talking = not self.talking
        self._state_changed()

    def _state_changed(self) -> None:
        self.emit(MicState(muted=not self.listening, push_to_talk=self.push_to_talk))

    # -- PortAudio thread: never blocks, never logs -----------------------------------------
    def _callback(self, indata, _frames, _time, status) -> None:
        reference = self.monitor.count if self.monitor is not None else 0
        try:
            self._raw.put_nowait((indata[:, 0].copy(), time.monotonic(), reference))
        except queue.Full:
            self.dropped += 1
        if status.input_overflow:
            self.dropped += 1

    # -- source thread ---------------------------------------------------------------------
    def run(self, thread: ManagedThread, out: queue.Queue[SourceMessage]) -> None:
        sd = sounddevice()
        try:
            stream = sd.InputStream(
                device=self.device.index,
                samplerate=self.rate,
                channels=1,
                dtype="float32",
                blocksize=FRAME * self.block_frames if self.rate == SAMPLE_RATE else 0,
                latency="low",
                callback=self._callback,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise open_error(self.device, "input", exc) from None
        self._state_changed()
        stream.start()
        try:
            self._pump(thread, out)
        finally:
            stream.abort()  # stop() would wait for PortAudio's buffers to drain
            stream.close()

    def _pump(self, thread: ManagedThread, out: queue.Queue[SourceMessage]) -> None:
        resampler = None
        if self.rate != SAMPLE_RATE:
            import soxr

            resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="float32")
        pending = np.zeros(0, dtype=np.float32)
        frames = 0
        peak = square = 0.0
        last_warning = 0.0
        while not thread.should_stop():
            try:
                block, wall, reference = self._raw.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if resampler is not None:
                block = resampler.resample_chunk(block)
            pending = np.concatenate((pending, block))
            while len(pending) >= FRAME:
                # a block of several frames: each gets the capture time and speaker reference
                # of its own last sample (both move in step with the samples)
                behind = len(pending) - FRAME
                samples, pending = pending[:FRAME], pending[FRAME:]
                peak = max(peak, float(np.max(np.abs(samples))))
                square += float(np.dot(samples, samples)) / FRAME
                frames += 1
                if frames % LEVEL_EVERY == 0:
                    rms = math.sqrt(square / LEVEL_EVERY)
                    self.emit(Level(rms_db=_db(rms), peak_db=_db(peak)))
                    peak = square = 0.0
                self._deliver(samples, wall - behind / SAMPLE_RATE, max(0, reference - behind), out)
            if self.dropped > self._reported and time.monotonic() - last_warning > WARN_EVERY_S:
                last_warning = time.monotonic()
                self._report_drops()

    def _deliver(
        self, samples: np.ndarray, wall: float, reference: int, out: queue.Queue[SourceMessage]
    ) -> None:
        heard = None  # the listener's version while a reply plays (the canceller's linear one)
        if self.canceller is not None:  # first: it keeps adapting while muted
            samples = self.canceller.process(samples, reference)
            heard = self.canceller.linear_output()
        if not self.listening:
            samples, heard = np.zeros_like(samples), None
        elif self.tap is not None:
            self.tap(samples, wall)
        released = (
            [(samples, wall)]
            if self.guard is None
            else self.guard.process(samples, wall, reference, heard)
        )
        for frame_samples, frame_wall in released:
            try:
                out.put_nowait(Frame(frame_samples, frame_wall))
            except queue.Full:
                self.dropped += 1

    def _report_drops(self) -> None:
        count = self.dropped - self._reported
        self._reported = self.dropped
        self.emit(
            WarningEvent(
                code="capture_overflow",
                message=f"{count} audio blocks dropped: the pipeline is falling behind",
                count=count,
            )
        )
