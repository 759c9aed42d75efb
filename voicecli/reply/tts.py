"""Text-to-speech: Piper (natural, the default) or espeak-ng (light, many languages).

Why two engines behind one object: the responder, ``say``, ``serve`` and the bench ask for
speech the same way whichever engine speaks. A voice is ``piper:NAME`` or ``espeak:ID``; a
bare ID keeps meaning espeak-ng. Where Piper cannot load (no wheel for the platform, package
missing) voicecli says so once and speaks with espeak-ng, which is always loaded: it is also
the light voice thermal protection switches to (``apply_thermal``, docs/thermal.md). Both
engines produce TTS_RATE audio (Piper voices at another rate are resampled to it), so sinks,
output files and the WebSocket reply audio need not know which one spoke.

``close_join``: a sentence cut mid-phrase for a faster first audio (reply/sentences.py) must
not be heard as cut. Each engine ends a piece with ~100-150 ms of silence and may start one
with up to ~60 ms; at such a cut both are trimmed to JOIN_PAD_S, about a pause between words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from voicecli.core.audio_format import TTS_RATE
from voicecli.core.config import TtsConfig
from voicecli.reply import espeak_tts, piper_tts
from voicecli.reply.espeak_tts import EspeakEngine, TtsUnavailable

__all__ = [
    "TTS_RATE",
    "TextToSpeech",
    "TtsUnavailable",
    "Voice",
    "all_voices",
    "close_join",
    "split_voice",
]

log = logging.getLogger(__name__)

FALLBACK_VOICE = "gmw/en-us"  # espeak-ng's voice when Piper cannot speak
_warned: set[str] = set()  # Piper failures already reported (once per process)
JOIN_PAD_S = 0.02  # silence kept on each side of a mid-phrase cut
SILENT = 100  # int16 amplitude below which a sample counts as silence (-50 dBFS)


@dataclass(frozen=True)
class Voice:
    id: str  # as --voice takes it: piper:joe, gmw/en-us
    name: str
    languages: tuple[str, ...]
    engine: str  # piper | espeak-ng
    size_mb: float | None  # the voice's own files (None: part of espeak-ng's shared data)
    license: str


def close_join(pcm: np.ndarray, *, start: bool, end: bool) -> np.ndarray:
    """``pcm`` with its leading (``start``) and trailing (``end``) silence cut to JOIN_PAD_S."""
    loud = np.flatnonzero(np.abs(pcm) > SILENT)
    if loud.size == 0:
        return pcm
    pad = int(JOIN_PAD_S * TTS_RATE)
    first = max(0, loud[0] - pad) if start else 0
    last = min(len(pcm), loud[-1] + 1 + pad) if end else len(pcm)
    return pcm[first:last]


def split_voice(spec: str) -> tuple[str, str]:
    """``piper:joe`` -> ("piper", "joe"); ``espeak:gmw/en-us`` and ``gmw/en-us`` -> espeak."""
    engine, sep, name = spec.partition(":")
    if sep and engine in ("piper", "espeak"):
        return engine, name
    return "espeak", spec


def all_voices() -> list[Voice]:
    """Every voice installed here, Piper's first; nothing is loaded for Piper's."""
    piper = [
        Voice(
            id=f"piper:{e.id}",
            name=e.engine,
            languages=("en-us",),
            engine="piper",
            size_mb=e.size_mb,
            license=e.license,
        )
        for e in piper_tts.piper_voices()
    ]
    espeak = [
        Voice(vid, name, langs, engine="espeak-ng", size_mb=None, license=espeak_tts.LICENSE)
        for vid, name, langs in EspeakEngine().voices()
    ]
    return piper + espeak


class TextToSpeech:
    def __init__(self, config: TtsConfig, *, deterministic: bool = False) -> None:
        self.config = config
        self.deterministic = deterministic  # Piper without noise: the same samples every run
        self.light = False  # thermal protection: espeak-ng speaks
        self.piper: piper_tts.PiperEngine | None = None
        self.fallback: str | None = None  # why Piper was asked for and is not speaking
        self.espeak = EspeakEngine()
        self.set_voice(config.voice)

    def set_voice(self, spec: str) -> None:
        engine, name = split_voice(spec)
        if engine == "piper":
            if self.piper is None or self.piper.entry.id != name:
                self.piper = self._load_piper(name)
            self.espeak_voice = FALLBACK_VOICE
        else:
            if name not in {v[0] for v in self.espeak.voices()}:
                raise TtsUnavailable(f"unknown voice {spec!r}", hint="see: voicecli voices")
            self.piper, self.espeak_voice = None, name
        self.config.voice = spec

    def _load_piper(self, name: str) -> piper_tts.PiperEngine | None:
        try:
            return piper_tts.PiperEngine.load(
                name, self.config.threads, self.deterministic, self.config.nice
            )
        except piper_tts.PiperMissing as exc:
            self.fallback = str(exc)
            if self.fallback not in _warned:
                _warned.add(self.fallback)
                log.warning("Piper cannot speak here (%s): using espeak-ng", exc)
            return None

    @property
    def engine(self) -> str:
        """The engine speaking now: piper, or espeak-ng (chosen, fallback or thermal)."""
        return "piper" if self.piper is not None and not self.light else "espeak-ng"

    def apply_thermal(self, protection) -> None:
        """Thermal protection: espeak-ng speaks while hot; Piper returns on cooling."""
        self.light = protection.light_voice

    def voices(self) -> list[Voice]:
        return all_voices()

    def synthesize(self, text: str) -> np.ndarray:
        """Speak ``text`` into int16 mono PCM at TTS_RATE (empty array for empty text)."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        if self.engine == "piper":
            return self.piper.synthesize(text, self.config.rate, TTS_RATE)
        return self.espeak.synthesize(text, self.espeak_voice, self.config.rate)
