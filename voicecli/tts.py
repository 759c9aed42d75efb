"""Text-to-speech with pyttsx3 over espeak-ng, to PCM in memory.

Why this shape: pyttsx3 cannot be stopped mid-utterance, so we synthesise a sentence to a
buffer (10-25 ms here) and play it ourselves; barge-in then only has to stop playback. The
espeak-ng library comes from the ``espeakng-loader`` wheel when the system has none, so a
pure ``pip install`` speaks. pyttsx3 prints "Audio saved to ..." on stdout: we swallow it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.config import TtsConfig
from voicecli.errors import VoicecliError

TTS_RATE = 22050  # espeak-ng's output rate


class TtsUnavailable(VoicecliError):
    code = "tts_unavailable"


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    languages: tuple[str, ...]


def _load_espeak_library() -> str:
    """Make libespeak-ng loadable for pyttsx3; returns where it came from."""
    try:
        import espeakng_loader
    except ImportError:
        if ctypes.util.find_library("espeak-ng"):
            return "system"
        raise TtsUnavailable(
            "espeak-ng library not found",
            hint="pip install espeakng-loader, or apt-get install libespeak-ng1",
        ) from None
    os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    return "espeakng-loader"


class TextToSpeech:
    """One pyttsx3 engine per process (espeak-ng initialises once); calls are serialised."""

    _engine = None
    _engine_lock = threading.Lock()

    def __init__(self, config: TtsConfig) -> None:
        self.config = config
        with TextToSpeech._engine_lock:
            if TextToSpeech._engine is None:
                self.library = _load_espeak_library()
                import pyttsx3

                try:
                    TextToSpeech._engine = pyttsx3.init("espeak")
                except (RuntimeError, OSError) as exc:
                    raise TtsUnavailable(f"cannot start espeak-ng: {exc}") from None
        self._engine = TextToSpeech._engine
        self._tmpdir = Path(tempfile.mkdtemp(prefix="voicecli-tts-"))
        self.set_voice(config.voice)

    def set_voice(self, voice: str) -> None:
        known = {v.id for v in self.voices()}
        if voice not in known:
            raise TtsUnavailable(f"unknown voice {voice!r}", hint="see: voicecli voices")
        self.config.voice = voice

    def voices(self) -> list[Voice]:
        with TextToSpeech._engine_lock:
            raw = self._engine.getProperty("voices")
        return [Voice(v.id, v.name, tuple(v.languages or ())) for v in raw]

    def synthesize(self, text: str) -> np.ndarray:
        """Speak ``text`` into int16 mono PCM at TTS_RATE (empty array for empty text)."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        import soundfile as sf

        path = self._tmpdir / f"{threading.get_ident()}.wav"
        with TextToSpeech._engine_lock:
            self._engine.setProperty("voice", self.config.voice)
            self._engine.setProperty("rate", self.config.rate)
            with contextlib.redirect_stdout(io.StringIO()):
                self._engine.save_to_file(text, str(path))
                self._engine.runAndWait()
            pcm, _rate = sf.read(str(path), dtype="int16")
        path.unlink(missing_ok=True)
        return pcm

    def close(self) -> None:
        for leftover in self._tmpdir.glob("*"):
            leftover.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._tmpdir.rmdir()
