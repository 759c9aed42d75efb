"""Text-to-speech with pyttsx3's espeak-ng driver, to int16 PCM in memory.

Why not ``pyttsx3.Engine.save_to_file``: measured here, its asynchronous espeak callback races
its polling loop -- 1 call in 6 returned an empty file -- and it prints "Audio saved to ..." on
stdout. We use pyttsx3's own ctypes binding of espeak-ng (``pyttsx3.drivers._espeak``, pinned
with pyttsx3==2.99) in espeak's synchronous mode instead: the samples come back in the calling
thread, ~3 ms per sentence, nothing is printed, no temporary file. Synthesising to a buffer also
makes barge-in simple: stop playback. espeak-ng initialises once per process, so nothing else
may call ``pyttsx3.init()``. The library comes from the ``espeakng-loader`` wheel when present.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass

import numpy as np

from voicecli.core.audio_format import TTS_RATE
from voicecli.core.config import TtsConfig
from voicecli.core.errors import VoicecliError


class TtsUnavailable(VoicecliError):
    code = "tts_unavailable"


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    languages: tuple[str, ...]


_lock = threading.Lock()  # espeak-ng is one global engine: one call at a time
_espeak = None
_chunks: list[bytes] = []


def _load_espeak_library() -> None:
    """Make libespeak-ng loadable for pyttsx3's binding (the wheel's copy first)."""
    try:
        import espeakng_loader
    except ImportError:
        if ctypes.util.find_library("espeak-ng"):
            return
        raise TtsUnavailable(
            "espeak-ng library not found",
            hint="pip install espeakng-loader, or apt-get install libespeak-ng1",
        ) from None
    os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)


def _collect(wav, numsamples, _events) -> int:
    if numsamples > 0:
        _chunks.append(ctypes.string_at(wav, numsamples * 2))
    return 0


def _engine():
    """pyttsx3's espeak-ng binding, initialised once, synchronous, collecting into _chunks."""
    global _espeak
    if _espeak is None:
        _load_espeak_library()
        try:
            from pyttsx3.drivers import _espeak as binding
        except (RuntimeError, OSError) as exc:
            raise TtsUnavailable(f"cannot load espeak-ng: {exc}") from None
        if binding.Initialize(binding.AUDIO_OUTPUT_SYNCHRONOUS, 0) != TTS_RATE:
            raise TtsUnavailable("espeak-ng failed to initialise (is its data installed?)")
        binding.SetSynthCallback(_collect)
        _espeak = binding
    return _espeak


class TextToSpeech:
    def __init__(self, config: TtsConfig) -> None:
        self.config = config
        with _lock:
            _engine()
        self.set_voice(config.voice)

    def set_voice(self, voice: str) -> None:
        if voice not in {v.id for v in self.voices()}:
            raise TtsUnavailable(f"unknown voice {voice!r}", hint="see: voicecli voices")
        self.config.voice = voice

    def voices(self) -> list[Voice]:
        with _lock:
            raw = _engine().ListVoices(None)
            return [
                Voice(
                    id=v.identifier.decode().lower(),
                    name=v.name.decode(),
                    languages=(v.languages[1:].decode(errors="ignore"),) if v.languages else (),
                )
                for v in raw
            ]

    def synthesize(self, text: str) -> np.ndarray:
        """Speak ``text`` into int16 mono PCM at TTS_RATE (empty array for empty text)."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        with _lock:
            espeak = _engine()
            if espeak.SetVoiceByName(self.config.voice.encode()) != espeak.EE_OK:
                raise TtsUnavailable(f"cannot select voice {self.config.voice!r}")
            espeak.SetParameter(espeak.RATE, int(self.config.rate), 0)
            _chunks.clear()
            espeak.Synth(text.encode(), flags=espeak.ENDPAUSE | espeak.CHARS_UTF8)
            pcm = np.frombuffer(b"".join(_chunks), dtype=np.int16).copy()
            _chunks.clear()
        return pcm
