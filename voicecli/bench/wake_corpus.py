"""The audio ``voicecli bench --wake`` scores: positives made with espeak-ng, negatives from the
real recordings, near misses apart.

Why generated positives: the real recordings hold no supported wake phrase. Each wake phrase is
spoken by several espeak-ng voices and rates, alone and followed by a question, clean and with
every real noise recording mixed in at 10 dB SNR. espeak-ng is robotic speech -- a poor positive
(docs/wake.md) -- so results are reported per voice family; a neural voice adds its own family
when one is installed. Negatives are every distinct real clip (looping one proves nothing: the
model is deterministic) plus the bench's generated sentences; near misses ("jarvis" alone,
"computer", generated "Alexis", "hey Travis", "okay, no boo") are scored separately.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.bench.corpus import DEFAULT_PHRASES, LLM_PHRASES, find_audio
from voicecli.core.clock import SAMPLE_RATE
from voicecli.core.errors import UsageError
from voicecli.listen.wake import WAKE_WORDS

VOICES = ("gmw/en-us", "gmw/en", "gmw/en-029")
NEURAL_VOICES = ("piper:joe",)  # Piper, when installed (the default voice where wheels exist)
RATES = (120, 150, 180)
# Said after the wake word as written, with the vocative's comma ("alexa, what time is it"):
# without it Piper runs the words together and neural alexa woke on 0 of 3 clean clips
# (docs/wake.md). The turn still starts at the detection point when no pause follows.
QUESTION = "what time is it"
SNR_DB = 10.0
LEAD_S, TAIL_S = 0.5, 1.0  # silence (or noise) around each positive
# Noise starts this long before a noisy positive: a room's noise was there before anyone spoke,
# and the features' noise estimate (the TFLite micro frontend's) needs it -- with 0.5 s of
# lead-in neural okay_nabu / alexa woke on 17 / 19 of 30 noisy clips, with 3 s on 20 / 25.
NOISE_LEAD_S = 3.0
NEAR_MISSES = ("alexis", "hey travis", "okay, no boo", "hey microsoft", "okay google")
NEAR_MISS_KINDS = ("jarvis", "computer")  # real crowd recordings (utterances/, wwb_*)
ESPEAK, NEURAL = "espeak-ng", "neural"


def voice_families() -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The voices to make positives with, by family, and the families that cannot run here."""
    from voicecli.reply.synth import speak
    from voicecli.reply.tts import TtsUnavailable

    families, pending = {ESPEAK: VOICES}, []
    try:
        speak("okay", NEURAL_VOICES[0])
        families[NEURAL] = NEURAL_VOICES
    except (TtsUnavailable, ValueError, ImportError):
        pending.append(NEURAL)
    return families, pending


@dataclass(frozen=True)
class Clip:
    name: str
    group: str  # positive: "clean" | "noisy"; negative: real_speech | real_noise | ...
    family: str  # espeak-ng | real | neural
    audio: np.ndarray
    word: str | None = None  # positives: the wake word said
    phrase_end_s: float | None = None  # positives said alone: where the wake phrase ends

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` with ``noise`` (looped to length) ``snr_db`` below its voiced power."""
    noise = np.resize(noise, len(speech))
    voiced = speech[np.abs(speech) > 0.01]
    power = float(np.mean(voiced**2)) if voiced.size else 1e-6
    noise_power = float(np.mean(noise**2)) or 1e-12
    mixed = speech + noise * np.sqrt(power / noise_power / 10 ** (snr_db / 10))
    peak = float(np.max(np.abs(mixed)))
    return (mixed / peak * 0.95 if peak > 0.99 else mixed).astype(np.float32)


def _pad(audio: np.ndarray, lead_s: float = LEAD_S) -> np.ndarray:
    lead, tail = (np.zeros(int(s * SAMPLE_RATE), np.float32) for s in (lead_s, TAIL_S))
    return np.concatenate([lead, audio, tail])


def _at(lead_s: float, end: float | None) -> float | None:
    return None if end is None else lead_s + end


def positives(noises: dict[str, np.ndarray], words, families: dict) -> list[Clip]:
    from voicecli.reply.synth import speak

    clips = []
    voices = [(family, voice) for family, names in families.items() for voice in names]
    for word in words:
        phrase = WAKE_WORDS[word]
        for family, voice in voices:
            for rate in RATES:
                alone = speak(phrase, voice, rate)
                said = {"alone": alone, "question": speak(f"{phrase}, {QUESTION}", voice, rate)}
                for context, speech in said.items():
                    end = len(alone) / SAMPLE_RATE if context == "alone" else None
                    base = f"{word}/{voice}/{rate}/{context}"
                    clips.append(Clip(base, "clean", family, _pad(speech), word, _at(LEAD_S, end)))
                    noisy_end = _at(NOISE_LEAD_S, end)
                    for noise_name, noise in noises.items():
                        noisy = mix(_pad(speech, NOISE_LEAD_S), noise, SNR_DB)
                        clips.append(
                            Clip(f"{base}+{noise_name}", "noisy", family, noisy, word, noisy_end)
                        )
    return clips


def real_negatives(root: Path) -> tuple[list[Clip], dict[str, np.ndarray]]:
    """Every clip under ``root`` (the real recordings: utterances/, turns/, noise/), and the
    noise recordings by name for mixing."""
    from voicecli.audio.file import load_audio

    for folder in ("utterances", "turns", "noise"):
        if not (root / folder).is_dir():
            raise UsageError(f"--corpus {root}: no {folder}/ (the real recordings' layout)")
    truth = json.loads((root / "utterances" / "truth.json").read_text(encoding="utf-8"))
    clips, noises = [], {}
    for path in find_audio(root):
        audio = load_audio(path)
        folder = path.relative_to(root).parts[0]
        text = truth.get(path.name, {}).get("text", "").lower()
        if folder == "noise":
            group = "real_noise"
            noises[path.stem] = audio
        elif any(kind in text for kind in NEAR_MISS_KINDS):
            group = "near_miss_real"
        else:
            group = "real_speech"
        padded = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32), audio])
        clips.append(Clip(str(path.relative_to(root)), group, "real", padded))
    return clips, noises


def generated_negatives() -> list[Clip]:
    """The bench's sentences and the near misses, spoken by every voice at the middle rate."""
    from voicecli.reply.synth import speak

    clips = []
    for voice in VOICES:
        for index, phrase in enumerate((*DEFAULT_PHRASES, *LLM_PHRASES)):
            audio = _pad(speak(phrase, voice, RATES[1]))
            clips.append(Clip(f"sentence{index:02d}/{voice}", "generated_speech", ESPEAK, audio))
        for phrase in NEAR_MISSES:
            for rate in RATES:
                audio = _pad(speak(phrase, voice, rate))
                clips.append(Clip(f"{phrase}/{voice}/{rate}", "near_miss_generated", ESPEAK, audio))
    return clips
