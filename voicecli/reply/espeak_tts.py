"""The espeak-ng engine: pyttsx3's espeak-ng driver, to int16 PCM in memory.

Why not ``pyttsx3.Engine.save_to_file``: measured here, its asynchronous espeak callback races
its polling loop -- 1 call in 6 returned an empty file -- and it prints "Audio saved to ..." on
stdout. We use pyttsx3's own ctypes binding of espeak-ng (``pyttsx3.drivers._espeak``, pinned
with pyttsx3==2.99) in espeak's synchronous mode instead: the samples come back in the calling
thread, ~3 ms per sentence, nothing is printed, no temporary file. espeak-ng initialises once
per process, so nothing else may call ``pyttsx3.init()``. The library comes from the
``espeakng-loader`` wheel when present.

Why RTLD_LOCAL: Piper's phonemiser (``piper.espeakbridge``) carries its own espeak-ng and
calls it through exported symbols; with this library loaded RTLD_GLOBAL first, those calls
landed in it and the process crashed (segfault). Loaded locally, pyttsx3's
``cdll.LoadLibrary("libespeak-ng.so.1")`` still finds it by its SONAME, and the two engines
live in one process in either load order (tests/reply/test_tts_engines.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

import numpy as np

from voicecli.core.errors import VoicecliError

ESPEAK_RATE = 22050  # espeak-ng's output rate
LICENSE = "GPL-3.0 (espeak-ng)"


class TtsUnavailable(VoicecliError):
    code = "tts_unavailable"


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
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_LOCAL)


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
        if binding.Initialize(binding.AUDIO_OUTPUT_SYNCHRONOUS, 0) != ESPEAK_RATE:
            raise TtsUnavailable("espeak-ng failed to initialise (is its data installed?)")
        binding.SetSynthCallback(_collect)
        _espeak = binding
    return _espeak


class EspeakEngine:
    """espeak-ng voices by their identifier (``gmw/en-us``); rate in words per minute."""

    name = "espeak-ng"

    def __init__(self) -> None:
        with _lock:
            _engine()

    def voices(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(id, name, languages) of every installed voice."""
        with _lock:
            return [
                (
                    v.identifier.decode().lower(),
                    v.name.decode(),
                    (v.languages[1:].decode(errors="ignore"),) if v.languages else (),
                )
                for v in _engine().ListVoices(None)
            ]

    def synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        """``text`` as int16 mono PCM at ESPEAK_RATE."""
        with _lock:
            espeak = _engine()
            if espeak.SetVoiceByName(voice.encode()) != espeak.EE_OK:
                raise TtsUnavailable(f"cannot select voice {voice!r}")
            espeak.SetParameter(espeak.RATE, int(rate), 0)
            _chunks.clear()
            espeak.Synth(text.encode(), flags=espeak.ENDPAUSE | espeak.CHARS_UTF8)
            pcm = np.frombuffer(b"".join(_chunks), dtype=np.int16).copy()
            _chunks.clear()
        return pcm
