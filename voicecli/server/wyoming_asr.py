"""One Wyoming transcription: audio in any format -> 16 kHz mono, VAD, speculative STT.

Why speculative: Home Assistant streams the microphone in real time and stops it about 0.7 s
after the user stops talking. The first silent frames after speech (plus the VAD tail) already
end the utterance, so it goes to the shared STT worker then, as in the listener; at
``audio-stop`` the transcript is usually ready. Speech that resumes makes a new job with the
longer utterance, so the text is always that of the whole speech: the speculation only changes
when the work is done, never what is decoded.
"""

from __future__ import annotations

import asyncio

import numpy as np

from voicecli.audio.source import FRAME
from voicecli.audio.vad import SpeechSegmenter, VadStream
from voicecli.core.clock import SAMPLE_RATE
from voicecli.core.config import Config
from voicecli.core.messages import Transcription
from voicecli.listen.listener import PREROLL_FRAMES
from voicecli.listen.stt_worker import FINAL, SttJob, SttWorker
from voicecli.server.calls import call_in_loop

WIDTHS = {1: np.uint8, 2: np.int16, 4: np.int32}
# Audio kept after the last speech frame. The listener's 64 ms tail (config.vad.tail_ms) cut
# final consonants of single words here; 320 ms measured best on the real recordings
# (benchmarks/WYOMING.md: WER 25.3 -> 19.8 %, n=63), and Home Assistant's ~0.7 s of trailing
# silence still leaves the transcription time to finish before audio-stop.
TAIL_FRAMES = 10


class BadAudio(ValueError):
    """Audio this server cannot read (odd sample width, torn frames, too long)."""


def to_float_mono(pcm: bytes, width: int, channels: int) -> np.ndarray:
    """Interleaved integer PCM -> mono float32 in [-1, 1] (channels averaged)."""
    if width not in WIDTHS or not 1 <= channels <= 8:
        raise BadAudio(f"unsupported audio format: width {width}, {channels} channels")
    if len(pcm) % (width * channels):
        raise BadAudio("audio chunk is not a whole number of frames")
    samples = np.frombuffer(pcm, dtype=WIDTHS[width]).astype(np.float32)
    if width == 1:
        samples = (samples - 128.0) / 128.0
    else:
        samples /= float(2 ** (8 * width - 1))
    return samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples


class AsrStream:
    def __init__(self, config: Config, stt: SttWorker, key: str, max_audio_s: float) -> None:
        self.stt = stt
        self.key = key  # the STT worker's session key: jobs of other connections are not ours
        self.max_samples = round(max_audio_s * SAMPLE_RATE)
        self.vad = VadStream(config.vad.engine)
        self.segmenter = SpeechSegmenter(config.vad)
        self.tail_frames = TAIL_FRAMES
        self._pieces: list[np.ndarray] = []  # everything heard, 16 kHz mono
        self._samples = 0
        self._unframed = np.zeros(0, np.float32)  # the tail the VAD has not seen yet
        self._vad_frames = 0  # frames the VAD has seen
        self._format: tuple[int, int, int] | None = None
        self._resampler = None
        self._first: int | None = None  # frame where the first speech began
        self._end: int | None = None  # frame after the last speech (None while speaking)
        self._job: tuple[tuple[int, int], asyncio.Future, SttJob] | None = None

    # -- audio in --------------------------------------------------------------------------
    def feed(self, pcm: bytes, rate: int, width: int, channels: int) -> None:
        mono = to_float_mono(pcm, width, channels)
        if self._format != (rate, width, channels):
            self._flush_resampler()
            self._format = (rate, width, channels)
            self._resampler = None if rate == SAMPLE_RATE else _resampler(rate)
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono)
        self._append(mono)

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            self._append(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
            self._resampler = None

    @property
    def audio(self) -> np.ndarray:
        if len(self._pieces) > 1:
            self._pieces = [np.concatenate(self._pieces)]
        return self._pieces[0] if self._pieces else np.zeros(0, np.float32)

    def _append(self, mono: np.ndarray) -> None:
        if self._samples + len(mono) > self.max_samples:
            raise BadAudio(f"more than {self.max_samples // SAMPLE_RATE} s of audio")
        mono = mono.astype(np.float32, copy=False)
        self._pieces.append(mono)
        self._samples += len(mono)
        self._unframed = np.concatenate([self._unframed, mono])
        while len(self._unframed) >= FRAME:
            index = self._vad_frames
            frame, self._unframed = self._unframed[:FRAME], self._unframed[FRAME:]
            decision = self.segmenter.update(self.vad.probability(frame), index)
            self._vad_frames += 1
            if decision.started:
                self._first = decision.start_frame if self._first is None else self._first
                self._end = None
            elif decision.ended:
                self._end = index
            if self._end is not None and index - self._end + 1 >= self.tail_frames:
                self._speculate()

    # -- transcription ---------------------------------------------------------------------
    def _bounds(self) -> tuple[int, int]:
        """Sample range of the speech: first onset (with pre-roll) to last end (with tail)."""
        if self._first is None:  # the VAD heard nothing: decode it all (quiet speakers)
            return 0, self._samples
        start = max(0, self._first - PREROLL_FRAMES) * FRAME
        end = self._samples if self._end is None else (self._end + self.tail_frames) * FRAME
        return start, min(end, self._samples)

    def _speculate(self) -> None:
        bounds = self._bounds()
        if self._job is not None and self._job[0] == bounds:
            return
        self.cancel()
        reply = LoopReply(asyncio.get_running_loop())
        start, end = bounds
        audio = self.audio[start:end].copy()
        job = SttJob(audio=audio, kind=FINAL, session=self.key, reply_to=reply)
        self._job = (bounds, reply.future, self.stt.submit(job))

    async def finish(self) -> Transcription | None:
        """The transcript of everything fed (None for no audio at all)."""
        self._flush_resampler()
        if self._samples == 0:
            return None
        self._speculate()  # a no-op when the speculative job covers the same speech
        return await self._job[1]

    def cancel(self) -> None:
        """The client went away: its queued job is skipped."""
        if self._job is not None:
            self._job[1].cancel()
            self._job[2].cancel()


class LoopReply:
    """An STT job's reply queue on the event loop: its ``Transcription`` settles ``future``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[Transcription] = loop.create_future()

    def put(self, item: Transcription) -> None:
        """From the STT worker's thread."""
        call_in_loop(self.loop, lambda: self._settle(item))

    def _settle(self, item: Transcription) -> None:
        if self.future.done():
            return
        if item.error is not None:
            self.future.set_exception(item.error)
        else:
            self.future.set_result(item)


def _resampler(rate: int):
    import soxr

    return soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
