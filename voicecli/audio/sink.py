"""Audio sinks: where the assistant's voice goes (a WAV file, nowhere; speakers later).

``--output FILE`` layout: one mono 16-bit WAV at the TTS rate (22050 Hz) holding every reply
in order, each reply followed by 0.5 s of silence. It is written as the replies are made, so
what was said survives an interrupted run.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from voicecli.core.audio_format import TTS_RATE
from voicecli.core.errors import UsageError

REPLY_GAP_S = 0.5


class AudioSink:
    """Base: receives int16 PCM at TTS_RATE, sentence by sentence."""

    name = "none"
    silent_at: float | None = None  # monotonic time of the last cut that silenced a device

    def write(self, pcm: np.ndarray) -> None:
        """Called with each sentence's audio."""

    def end_reply(self) -> str | None:
        """Called once the whole reply has been written; a sink that plays it in real time
        returns once it has been heard, "cut" when it was cut."""
        return None

    def cut(self) -> bool:
        """Stop what is being played now (barge-in, shutdown); True if anything was."""
        return False

    def pause(self) -> bool:
        """Go silent now but keep what is queued (a barge-in being decided); True if this
        sink can (it plays in real time)."""
        return False

    def resume(self) -> None:
        """Play on after ``pause``, from the start of the sentence it interrupted."""

    def close(self) -> None:
        pass


class NullSink(AudioSink):
    pass


class FileSink(AudioSink):
    def __init__(self, path: str | Path, rate: int = TTS_RATE) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.name = str(path)
        self.rate = rate
        self._lock = threading.Lock()
        try:
            self._file = sf.SoundFile(str(self.path), "w", rate, 1, subtype="PCM_16", format="WAV")
        except (OSError, RuntimeError, sf.LibsndfileError) as exc:
            raise UsageError(f"cannot write {path}: {exc}") from None

    def write(self, pcm: np.ndarray) -> None:
        with self._lock:
            self._file.write(pcm)

    def end_reply(self) -> None:
        self.write(np.zeros(int(REPLY_GAP_S * self.rate), dtype=np.int16))

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def open_sink(output: str | None) -> AudioSink:
    """``--output``: a file path, or none."""
    if output is None or output.lower() == "none":
        return NullSink()
    return FileSink(output)
