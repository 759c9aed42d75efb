"""Compose spoken test audio: sentences spoken by espeak-ng or Piper joined by exact silences.

Why in the package: the demo recording, the benchmark corpus generator and the tests all build
speech the same way, at 16 kHz mono float32 -- the pipeline's own format.

Why each phrase is spoken in a fresh process: espeak-ng keeps state from one utterance to the
next inside the library (its pitch "flutter" runs on), so the same phrase comes out a few
samples different depending on everything spoken before it in the process -- and tiny.en heard
"twelve times eight" as "12 times made" in one of those renditions. A new process (about
0.2 s) speaks every phrase the same way on every run. Piper (``voice="piper:joe"``) keeps no
such state and runs without noise here, so it speaks in this process, loaded once.
"""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np

from voicecli.audio.file import resample
from voicecli.core.audio_format import SAMPLE_RATE, TTS_RATE
from voicecli.core.config import TtsConfig
from voicecli.reply.tts import TextToSpeech, TtsUnavailable, split_voice


@functools.cache
def _piper(voice: str) -> TextToSpeech:
    tts = TextToSpeech(TtsConfig(voice=voice), deterministic=True)
    if tts.engine != "piper":
        raise TtsUnavailable(f"cannot speak with {voice}: {tts.fallback}")
    return tts


def speak_fresh(text: str, voice: str, rate: int) -> np.ndarray:
    """``text`` as int16 PCM at TTS_RATE: espeak-ng in a new process, Piper without noise."""
    if split_voice(voice)[0] == "piper":
        tts = _piper(voice)
        tts.config.rate = rate
        return tts.synthesize(text)
    code = (
        "import sys; from voicecli.reply.synth import _speak_to_stdout; "
        "_speak_to_stdout(*sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, text, voice, str(rate)], capture_output=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise TtsUnavailable(message[-1] if message else f"espeak-ng failed on {text!r}")
    return np.frombuffer(done.stdout, dtype=np.int16)


def _speak_to_stdout(text: str, voice: str, rate: str) -> None:
    try:
        pcm = TextToSpeech(TtsConfig(voice=voice, rate=int(rate))).synthesize(text)
    except TtsUnavailable as exc:
        sys.exit(str(exc))
    sys.stdout.buffer.write(pcm.tobytes())


@functools.lru_cache(maxsize=256)
def speak(text: str, voice: str = "gmw/en-us", rate: int = 140) -> np.ndarray:
    """``text`` spoken by ``voice`` (an espeak-ng ID or piper:NAME), trimmed of leading and
    trailing silence, 16 kHz float32: the same samples on every call and every run (read-only)."""
    pcm = speak_fresh(text, voice, rate).astype(np.float32) / 32768.0
    voiced = np.flatnonzero(np.abs(pcm) > 0.01)
    if voiced.size:
        pcm = pcm[voiced[0] : voiced[-1] + 1]
    audio = resample(pcm, TTS_RATE, SAMPLE_RATE)
    audio.flags.writeable = False
    return audio


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def compose(*parts: str | float, voice: str = "gmw/en-us", rate: int = 140) -> np.ndarray:
    """Strings are spoken, numbers are seconds of silence: compose(0.5, "Hi.", 1.5, "Bye.")."""
    pieces = [silence(p) if isinstance(p, int | float) else speak(p, voice, rate) for p in parts]
    return np.concatenate(pieces)
