"""Audio sources: where the pipeline's 16 kHz mono samples come from.

Why an interface: file input exists now; the microphone, stdin and server sessions plug in
later. A source pushes fixed 512-sample frames (32 ms, Silero's frame size) into a bounded
queue. A file never drops audio; only a live microphone may (counted).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.audio.file import load_audio
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.lifecycle import POLL_S, ManagedThread


@dataclass(frozen=True)
class Frame:
    samples: np.ndarray  # float32, FRAME samples (the last frame is zero-padded)
    wall: float  # monotonic time at which the frame's last sample was available


END = None  # put on the queue after the last frame


@dataclass(frozen=True)
class EndOfUtterance:
    """Put on the queue by a live source (a server session's ``end``): the open turn is
    declared at once and input goes on; ``then`` runs once the replies before it are made."""

    then: Callable[[], None]


def put_blocking(thread: ManagedThread, q: queue.Queue, item: object) -> bool:
    """Put without ever dropping, waking regularly to honour stop; False when stopped."""
    while not thread.should_stop():
        try:
            q.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            continue
    return False


class AudioSource:
    """Base class: ``run`` pushes Frames then END onto ``out`` until done or stopped."""

    live = False
    name = "source"

    def run(self, thread: ManagedThread, out: queue.Queue) -> None:
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

    def run(self, thread: ManagedThread, out: queue.Queue) -> None:
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
        put_blocking(thread, out, END)


class FileSource(ArraySource):
    """Any file libsndfile decodes; decoded up front so a bad file fails before anything starts."""

    def __init__(self, path: str | Path, realtime: bool = True) -> None:
        super().__init__(load_audio(path), realtime=realtime, name=str(path))
