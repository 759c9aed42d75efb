"""Audio sources: where the pipeline's 16 kHz mono samples come from.

Why an interface: file input exists now; the microphone, stdin and server sessions plug in
later. A source pushes fixed 512-sample ``Frame`` messages (32 ms, Silero's frame size) into a
bounded queue, then ``EndOfInput`` (core.messages). A file never drops audio; only a live
microphone may (counted).
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

import numpy as np

from voicecli.audio.file import load_audio
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import EndOfInput, Frame, SourceMessage


def put_blocking(thread: ManagedThread, q: queue.Queue[SourceMessage], item: SourceMessage) -> bool:
    """Put without ever dropping, waking regularly to honour stop; False when stopped."""
    while not thread.should_stop():
        try:
            q.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            continue
    return False


class AudioSource:
    """Base class: ``run`` pushes Frames then EndOfInput onto ``out`` until done or stopped."""

    live = False
    name = "source"

    def run(self, thread: ManagedThread, out: queue.Queue[SourceMessage]) -> None:
        raise NotImplementedError


class ArraySource(AudioSource):
    """Samples already in memory (a decoded file), fed in real time or as fast as possible."""

    def __init__(self, audio: np.ndarray, realtime: bool = True, name: str = "memory") -> None:
        self.audio = audio.astype(np.float32, copy=False)
        self.realtime = realtime
        self.name = name

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    def run(self, thread: ManagedThread, out: queue.Queue[SourceMessage]) -> None:
        start = time.monotonic()
        for index in range(0, len(self.audio), FRAME):
            chunk = self.audio[index : index + FRAME]
            if len(chunk) < FRAME:
                chunk = np.pad(chunk, (0, FRAME - len(chunk)))
            if self.realtime:
                due = start + (index + FRAME) / SAMPLE_RATE
                delay = due - time.monotonic()
                if delay > 0 and thread.wait(delay):
                    return
            if not put_blocking(thread, out, Frame(chunk, time.monotonic())):
                return
        put_blocking(thread, out, EndOfInput())


class FileSource(ArraySource):
    """Any file libsndfile decodes; decoded up front so a bad file fails before anything starts."""

    def __init__(self, path: str | Path, realtime: bool = True) -> None:
        super().__init__(load_audio(path), realtime=realtime, name=str(path))
