"""The speaker sink: replies played on a sound device, cuttable at once for barge-in.

Why a callback stream that always runs: sentences wait in a queue the callback reads, so a
cut empties the queue and aborts the stream (dropping what PortAudio and the sound server
still hold) -- silent within milliseconds, not after a blocking write returns. The stream
also feeds the PlaybackMonitor a 16 kHz copy of every block it sends (zeros while idle), the
reference the echo guard compares the microphone against; a cut takes back from it what the
aborted stream still held (``PlaybackMonitor.drop_unplayed``). The responder thread blocks in
``end_reply`` until the reply has been heard (or cut), so the ``playback`` events tell the truth.
``voicecli connect`` feeds it the server's reply audio (``source_rate``: the hello's rate).

Hands-free (``standby_after_s``), the stream stops itself once nothing has played for that
long, and starts again with the next sound: an asleep assistant spent 1.5 points of a core on
PortAudio and PulseAudio delivering silence (docs/wake.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from voicecli.audio.devices import open_error, pick, sounddevice
from voicecli.audio.file import resample
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.audio.sink import AudioSink
from voicecli.core.audio_format import SAMPLE_RATE, TTS_RATE
from voicecli.core.lifecycle import POLL_S

# Under load (whisper on every core) PortAudio's "low" latency underruns through PulseAudio's
# ALSA plugin, and each underrun shifts the echo path; a cut aborts the stream instead.
OUTPUT_LATENCY_S = 0.2
# A stream started again after standby loses its first ~15 ms through PulseAudio's ALSA plugin
# (the chime's start went missing): it sends this much silence first
STANDBY_LEAD_S = 0.1


class _Chunk:
    """One sentence at the device rate, its 16 kHz reference and how much has been played."""

    __slots__ = ("device", "reference", "played")

    def __init__(self, device: np.ndarray, reference: np.ndarray) -> None:
        self.device = device
        self.reference = reference
        self.played = 0


class SpeakerSink(AudioSink):
    def __init__(
        self,
        device: str | None = None,
        monitor: PlaybackMonitor | None = None,
        prefer_rate: int | None = None,
        source_rate: int = TTS_RATE,
        standby_after_s: float | None = None,
    ) -> None:
        sd = sounddevice()
        self._callback_stop = sd.CallbackStop
        self.standby_after_s = standby_after_s
        self._quiet_since: float | None = None  # monotonic: nothing to play since
        self._standby = False  # the callback stopped the stream (standby_after_s)
        self._lead = 0  # samples of silence to send first after standby
        self.source_rate = source_rate  # the rate of the PCM given to ``write``
        self.device = pick(device, "output")
        self.name = f"speaker:{self.device.name}"
        self.rate = self.device.rate
        if prefer_rate is not None:
            try:
                sd.check_output_settings(self.device.index, channels=1, samplerate=prefer_rate)
                self.rate = prefer_rate
            except (sd.PortAudioError, ValueError):
                pass
        self.monitor = monitor or PlaybackMonitor()
        self._chunks: deque[_Chunk] = deque()
        self._lock = threading.Lock()
        self._drained = threading.Event()
        self._drained.set()
        self._stream_lock = threading.Lock()
        self._in_reply = False
        self._discard = False  # the current reply was cut: drop its remaining sentences
        self._paused = False  # a barge-in is being decided: silence, the queue kept
        self._closed = False
        self._device_total = 0
        self._reference_total = 0
        self.silent_at: float | None = None  # monotonic time of the last cut
        self._cue: np.ndarray | None = None  # a chime mixed in, outside the echo reference
        try:
            self._stream = sd.OutputStream(
                device=self.device.index,
                samplerate=self.rate,
                channels=1,
                dtype="float32",
                latency=OUTPUT_LATENCY_S,
                callback=self._callback,
            )
            self._stream.start()
            self.output_latency = float(self._stream.latency)
            self.monitor.latency_s = self.output_latency
        except (sd.PortAudioError, ValueError) as exc:
            raise open_error(self.device, "output", exc) from None

    # -- responder side --------------------------------------------------------------------
    def write(self, pcm: np.ndarray) -> None:
        audio = pcm.astype(np.float32) / 32768.0
        chunk = _Chunk(
            resample(audio, self.source_rate, self.rate),
            resample(audio, self.source_rate, SAMPLE_RATE),
        )
        with self._lock:
            if self._discard or self._closed:
                return
            if not self._in_reply:
                self._in_reply = True
                self.monitor.reply_started()
            self.monitor.pending = True
            self._chunks.append(chunk)
            self._drained.clear()
        self._leave_standby()

    def end_reply(self, wait: bool = True) -> str | None:
        """Wait until the reply has been played or cut; "cut" when it was cut. ``wait=False``
        only marks the reply's end (an event loop must not block while it plays)."""
        while wait and not self._closed:
            if self._drained.wait(POLL_S) and not self._paused:
                break
            if self._paused:  # the rest may still be played: wait for the decision
                time.sleep(POLL_S)
        with self._lock:
            cut, self._discard, self._in_reply = self._discard, False, False
        return "cut" if cut else None

    def cue(self, audio: np.ndarray, rate: int) -> None:
        """Mix a short sound (the wake chime) into the output at once. It is not a reply: the
        monitor never hears of it, so the microphone is not gated while it plays."""
        with self._lock:
            self._cue = resample(audio.astype(np.float32), rate, self.rate)
        self._leave_standby()

    # -- control ---------------------------------------------------------------------------
    def cut(self) -> bool:
        """Stop what is playing now (and the rest of this reply); True if anything was."""
        with self._lock:
            audible = bool(self._chunks) or time.monotonic() < self.monitor.audible_until
            self._chunks.clear()
            self._discard = self._in_reply
            self._paused = False
            self.monitor.pending = False
        self._drained.set()
        if audible:
            self._flush()
        return audible

    def pause(self) -> bool:
        """Silent now (the stream's buffers dropped), the queued sentences kept; the sentence
        being played will start again from its beginning on ``resume``."""
        with self._lock:
            self._paused = True
            if self._chunks:
                self._chunks[0].played = 0
        self._flush()
        return True

    def resume(self) -> None:
        """Play on. For the echo canceller and guard this is a new stretch of playback (the
        stream restarted): they re-arm as for a new reply."""
        with self._lock:
            if not self._paused:
                return
            self._paused = False
        self.monitor.reply_started()

    def _flush(self) -> None:
        """Drop what PortAudio and the sound server still hold: silence now, not one
        buffer (``OUTPUT_LATENCY_S``) later."""
        with self._stream_lock:
            if self._closed:
                return
            aborted_at = time.monotonic()
            self._stream.abort()
            self.silent_at = time.monotonic()
            self.monitor.drop_unplayed(aborted_at)
            self._restart()

    @property
    def standing_by(self) -> bool:
        """The stream stopped itself after ``standby_after_s`` of silence."""
        with self._lock:
            return self._standby

    def _leave_standby(self) -> None:
        """Sound to play and the stream stopped itself: start it again. The callback decides
        standby under ``_lock``, after looking at the queue, so a sound queued before that is
        played, and one queued after it finds ``_standby`` set here."""
        with self._stream_lock:
            with self._lock:
                if not self._standby or self._closed:
                    return
            self._stream.abort()  # a completed stream must be stopped before it starts
            self._restart(lead=int(STANDBY_LEAD_S * self.rate))

    def _restart(self, lead: int = 0) -> None:
        """Under ``_stream_lock``, the stream aborted: start it again, out of standby, at least
        ``lead`` samples of silence first. The echo path may have moved: the monitor is told."""
        with self._lock:
            self._standby, self._quiet_since = False, None
            self._lead = max(self._lead, lead)
        self.monitor.stream_restarted()
        self._stream.start()

    def close(self) -> None:
        self.cut()
        with self._stream_lock:
            self._closed = True
            self._stream.abort()
            self._stream.close()

    # -- PortAudio thread: never blocks, never logs -----------------------------------------
    def _callback(self, outdata, frames, times, status) -> None:
        entered = time.monotonic()  # PortAudio's currentTime, on our clock
        if status.output_underflow:  # samples were lost or inserted: the echo path moved
            self.monitor.underrun()
        out = outdata[:, 0]
        with self._lock:
            lead = min(self._lead, frames)  # silence first: a restarted stream loses it
            self._lead -= lead
            references = [np.zeros(lead * SAMPLE_RATE // self.rate, np.float32)]
            filled = lead
            while filled < frames and self._chunks and not self._paused:
                chunk = self._chunks[0]
                n = min(frames - filled, len(chunk.device) - chunk.played)
                out[filled : filled + n] = chunk.device[chunk.played : chunk.played + n]
                scale = len(chunk.reference) / len(chunk.device)
                lo, hi = int(chunk.played * scale), int((chunk.played + n) * scale)
                references.append(chunk.reference[lo:hi])
                chunk.played += n
                filled += n
                if chunk.played >= len(chunk.device):
                    self._chunks.popleft()
            if not self._chunks and not self._paused:
                self.monitor.pending = False
                self._drained.set()
            played = filled > lead
            stop = self._standby_due(played)
        out[:lead] = 0.0
        out[filled:] = 0.0
        self._mix_cue(out[lead:])
        plays_at = entered + times.outputBufferDacTime - times.currentTime
        self._keep_reference(references, frames, played, plays_at)
        if stop:
            raise self._callback_stop  # this block still plays; then the stream is inactive

    def _standby_due(self, played: bool) -> bool:
        """Under ``_lock``: has nothing been to play for ``standby_after_s``?"""
        if self.standby_after_s is None:
            return False
        if played or self._chunks or self._paused or self._in_reply or self._cue is not None:
            self._quiet_since = None
            return False
        now = time.monotonic()
        if self._quiet_since is None:
            self._quiet_since = now
        self._standby = now - self._quiet_since >= self.standby_after_s
        return self._standby

    def _mix_cue(self, out) -> None:
        with self._lock:
            cue = self._cue
            if cue is None:
                return
            n = min(len(out), len(cue))
            out[:n] += cue[:n]
            self._cue = cue[n:] if n < len(cue) else None

    def _keep_reference(
        self, references: list, frames: int, audible: bool, plays_at: float
    ) -> None:
        """Append this block's 16 kHz copy, kept in step with the device's sample count, with
        when its first sample plays (``plays_at``, monotonic, from the stream's DAC time): what
        a cut will drop."""
        self._device_total += frames
        due = self._device_total * SAMPLE_RATE // self.rate - self._reference_total
        self._reference_total += due
        reference = np.concatenate(references) if references else np.zeros(0, np.float32)
        reference = np.pad(reference[:due], (0, max(0, due - len(reference))))
        self.monitor.append(reference, audible=audible, plays_at=plays_at)
