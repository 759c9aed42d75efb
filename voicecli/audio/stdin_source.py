"""Raw PCM from a pipe: ``arecord -f S16_LE -r 16000 -c 1 -t raw | voicecli chat --input -``.

Why raw s16le at 16 kHz mono: it is what ``arecord``, ``sox -t raw`` and ``ffmpeg -f s16le``
write without a header, and the pipeline's own rate, so nothing is resampled. Like a file the
stream is not live (the pipeline clock moves only with samples) and nothing is dropped: when the
pipeline is behind, the pipe fills and the writer waits. Reads wait at most POLL_S at a time so
a stop is honoured even when the writer has gone quiet.
"""

from __future__ import annotations

import os
import queue
import select
import sys
import time
from typing import BinaryIO

import numpy as np

from voicecli.audio.source import AudioSource, put_blocking
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.errors import UsageError
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import EndOfInput, Frame, SourceMessage

BYTES_PER_FRAME = FRAME * 2  # int16


class StdinSource(AudioSource):
    """s16le 16 kHz mono from a binary stream (standard input by default)."""

    def __init__(self, stream: BinaryIO | None = None, realtime: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stdin.buffer
        if self.stream.isatty():
            raise UsageError(
                "--input - reads raw PCM from a pipe, not from a terminal",
                hint="e.g. arecord -f S16_LE -r 16000 -c 1 -t raw | voicecli chat --input -",
            )
        self.fd = self.stream.fileno()
        self.realtime = realtime
        self.name = "stdin"

    def _read(self, thread: ManagedThread) -> bytes | None:
        """Up to one frame of bytes; b"" at end of stream, None when stopped."""
        while not thread.should_stop():
            ready, _, _ = select.select([self.fd], [], [], POLL_S)
            if ready:
                return os.read(self.fd, BYTES_PER_FRAME)
        return None

    def run(self, thread: ManagedThread, out: queue.Queue[SourceMessage]) -> None:
        start = time.monotonic()
        pending = bytearray()
        sent = 0
        ended = False
        while not ended:
            while len(pending) < BYTES_PER_FRAME and not ended:
                chunk = self._read(thread)
                if chunk is None:
                    return
                pending += chunk
                ended = not chunk
            while len(pending) >= BYTES_PER_FRAME or (ended and len(pending) >= 2):
                size = min(BYTES_PER_FRAME, len(pending) // 2 * 2)
                samples = np.frombuffer(bytes(pending[:size]), dtype="<i2")
                del pending[:size]
                frame = np.zeros(FRAME, dtype=np.float32)
                frame[: len(samples)] = samples / 32768.0
                sent += FRAME
                if self.realtime:
                    delay = start + sent / SAMPLE_RATE - time.monotonic()
                    if delay > 0 and thread.wait(delay):
                        return
                if not put_blocking(thread, out, Frame(frame, time.monotonic())):
                    return
        put_blocking(thread, out, EndOfInput())
