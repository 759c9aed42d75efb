"""Between the event loop and a session's pipeline threads: audio in, events and audio out.

Why these small adapters: the pipeline only knows AudioSource, AudioSink and EventBus. Client
audio crosses from the loop thread to the source thread through a bounded queue (a flood is
dropped and counted, never buffered without end); events and reply audio cross back with
``loop.call_soon_threadsafe``, so a pipeline thread never waits on a socket.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from voicecli.audio.file import resample, to_int16
from voicecli.audio.sink import AudioSink
from voicecli.audio.source import AudioSource, put_blocking
from voicecli.core.audio_format import FRAME, SAMPLE_RATE, TTS_RATE
from voicecli.core.bus import EventBus
from voicecli.core.events import Event
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import EndOfUtterance, Frame, SourceMessage
from voicecli.server.protocol import MAX_AUDIO_CHUNK

log = logging.getLogger(__name__)

INBOX_SECONDS = 30.0  # client audio waiting for the source thread, at most


def call_in_loop(loop: asyncio.AbstractEventLoop, callback: Callable, *args) -> None:
    """Run ``callback`` on the loop; silently dropped once the loop is gone (server closing)."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        log.debug("event loop closed: %s dropped", getattr(callback, "__name__", callback))


class Inbox:
    """Client audio (s16le at the hello's rate) on its way to the source thread."""

    def __init__(self, rate: int, max_seconds: float = INBOX_SECONDS) -> None:
        self.rate = rate
        self.max_bytes = int(max_seconds * rate * 2)
        self._queue: queue.Queue[bytes | EndOfUtterance] = queue.Queue()
        self._bytes = 0  # queued PCM bytes (put on the loop thread, taken on the source's)
        self._lock = threading.Lock()
        self._resampler = None

    def put_pcm(self, data: bytes) -> bool:
        """From the loop thread; False when the source is too far behind and it was dropped."""
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                return False
            self._bytes += len(data)
        self._queue.put_nowait(data)
        return True

    def put_end(self) -> None:
        self._queue.put_nowait(EndOfUtterance())

    def clear(self) -> None:
        while True:
            try:
                self._take(self._queue.get_nowait())
            except queue.Empty:
                break
        self._resampler = None

    def _take(self, item: bytes | EndOfUtterance) -> None:
        if not isinstance(item, EndOfUtterance):
            with self._lock:
                self._bytes -= len(item)

    def get(self, timeout: float) -> np.ndarray | EndOfUtterance | None:
        """16 kHz float32 samples, EndOfUtterance, or None when nothing came in ``timeout``."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        self._take(item)
        if isinstance(item, EndOfUtterance):
            return item
        samples = np.frombuffer(item, dtype="<i2").astype(np.float32) / 32768.0
        if self.rate == SAMPLE_RATE:
            return samples
        if self._resampler is None:
            import soxr

            # streaming: one-shot resampling of 20 ms pieces would click at every boundary
            self._resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="float32")
        return self._resampler.resample_chunk(samples)

    def finish(self) -> np.ndarray:
        """At the end of an utterance: the samples still inside the resampler."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        tail = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        self._resampler = None
        return tail


class SocketSource(AudioSource):
    """A live source fed by the client's binary frames. The client's ``end`` becomes an
    EndOfUtterance: the open turn is declared at once, the pipeline says when its replies are
    made (``on_utterance_answered``), and listening goes on."""

    live = True
    name = "socket"

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def run(self, thread: ManagedThread, out: queue.Queue[SourceMessage]) -> None:
        pending = np.zeros(0, np.float32)
        while not thread.should_stop():
            item = self.inbox.get(POLL_S)
            if item is None:
                continue
            end = isinstance(item, EndOfUtterance)
            pending = np.concatenate([pending, self.inbox.finish() if end else item])
            if end and pending.size % FRAME:  # the utterance's last frame is zero-padded
                pending = np.pad(pending, (0, FRAME - pending.size % FRAME))
            while pending.size >= FRAME:
                frame, pending = pending[:FRAME], pending[FRAME:]
                if not put_blocking(thread, out, Frame(frame, time.monotonic())):
                    return
            if end and not put_blocking(thread, out, item):
                return


class SocketSink(AudioSink):
    """Reply audio to the client: resampled to its rate, cut into chunks, posted to the loop."""

    name = "socket"

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[bytes]], None],
        rate: int,
    ) -> None:
        self.loop = loop
        self.deliver = deliver
        self.rate = rate
        self._lock = threading.Lock()
        self._speaking = False
        self._cut = False
        self._closed = False

    def write(self, pcm: np.ndarray) -> None:
        with self._lock:
            if self._closed or self._cut:
                return
            self._speaking = True
        if self.rate != TTS_RATE:
            pcm = to_int16(resample(pcm.astype(np.float32) / 32768.0, TTS_RATE, self.rate))
        data = pcm.astype("<i2", copy=False).tobytes()
        chunks = [data[i : i + MAX_AUDIO_CHUNK] for i in range(0, len(data), MAX_AUDIO_CHUNK)]
        call_in_loop(self.loop, self.deliver, chunks)

    @property
    def speaking(self) -> bool:
        """A reply's audio is being made (between its first sentence and its end)."""
        return self._speaking and not self._cut

    def end_reply(self) -> None:
        with self._lock:
            self._speaking = self._cut = False

    def cut(self) -> bool:
        """Drop the rest of the reply being spoken; False when none was being spoken."""
        with self._lock:
            if not self._speaking:
                return False
            self._cut = True
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True


class LoopBus(EventBus):
    """The pipeline's bus, which also hands every event to the connection on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Event], None]) -> None:
        super().__init__()
        self.loop = loop
        self.deliver = deliver

    def publish(self, event: Event) -> None:
        super().publish(event)
        call_in_loop(self.loop, self.deliver, event)
