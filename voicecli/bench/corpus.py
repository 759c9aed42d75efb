"""Benchmark corpora: audio files with reference transcripts, or a bundled set.

Why generated: audio is not committed, so the bundled sets are spoken on the fly by espeak-ng
(``voicecli.reply.synth``) from fixed phrase lists, the same on every machine: ``DEFAULT_PHRASES``
for the pipeline, ``LLM_PHRASES`` (open questions mixed with skill questions) when a language
model is benchmarked. ``--corpus DIR`` takes
any folder of audio files, each with a ``.txt`` reference beside it (``a.wav`` + ``a.txt``);
sub-folders become named sets (``clean``, ``noisy``, ...) that the report keeps apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.errors import AudioInputError, UsageError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")

# The bundled default corpus: short things people say to an assistant, two voices.
DEFAULT_PHRASES = (
    "What time is it?",
    "Set a timer for five minutes.",
    "What is twelve times seven?",
    "Turn off the lights in the kitchen.",
    "Remind me to call my sister tomorrow.",
    "How far is the moon from the earth?",
    "Play some music please.",
    "What's the weather like today?",
)
DEFAULT_VOICES = ("gmw/en-us", "gmw/en")

# The bundled LLM set (``--llm`` without ``--corpus``): open questions no skill takes, mixed
# with skill questions so that both reply paths are measured in the same run. An open question
# comes first, so the warm-up run also warms the language model. Chosen so that tiny.en hears
# them right in the pipeline (it turned "octopuses" and "bees make honey" into nonsense, and
# "What time is it?" into "What I'm in it?" once white noise or another CPU nudged it; "What is
# the time now?" survived 30 of 30 such variations).
LLM_PHRASES = (
    "What is the capital of France?",
    "What is the time now?",
    "Tell me a fun fact about dolphins.",
    "What is twelve times seven?",
    "Why is the sky blue?",
    "Convert ten miles to kilometers.",
    "What is the tallest mountain in the world?",
    "Who painted the Mona Lisa?",
)


@dataclass(frozen=True)
class CorpusItem:
    name: str  # file path relative to the corpus root, or default/NN
    set: str  # the sub-folder it came from ("." for the root), or "default"
    reference: str
    audio: np.ndarray  # 16 kHz mono float32

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def add_white_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``audio`` plus white noise ``snr_db`` below the power of its voiced samples."""
    voiced = audio[np.abs(audio) > 0.01]
    power = float(np.mean(voiced**2)) if voiced.size else float(np.mean(audio**2))
    noise = rng.standard_normal(len(audio)).astype(np.float32) * np.sqrt(
        power / 10 ** (snr_db / 10)
    )
    mixed = audio + noise
    peak = float(np.max(np.abs(mixed))) if mixed.size else 0.0
    return (mixed / peak * 0.95 if peak > 0.99 else mixed).astype(np.float32)


def default_corpus(limit: int | None = None, *, llm: bool = False) -> list[CorpusItem]:
    """A bundled set (``llm``: the LLM set), each phrase spoken by espeak-ng, voices alternating."""
    from voicecli.reply.synth import compose

    name, phrases = ("llm", LLM_PHRASES) if llm else ("default", DEFAULT_PHRASES)
    items = []
    for index, phrase in enumerate(phrases[:limit]):
        voice = DEFAULT_VOICES[index % len(DEFAULT_VOICES)]
        audio = compose(0.3, phrase, 0.3, voice=voice, rate=160)
        items.append(CorpusItem(f"{name}/{index + 1:02d}", name, phrase, audio))
    return items


def find_audio(root: Path) -> list[Path]:
    """Audio files under ``root`` (recursively), in a stable order."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def load_corpus(root: str | Path, limit: int | None = None) -> list[CorpusItem]:
    """Every audio file under ``root`` with its ``.txt`` reference; bad input is a clear error."""
    from voicecli.audio.file import load_audio

    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"corpus {root}: not a directory")
    files = find_audio(root)
    if not files:
        raise UsageError(
            f"corpus {root}: no audio files ({', '.join(AUDIO_SUFFIXES)})",
            hint="generate one with: python benchmarks/make_corpus.py",
        )
    missing = [str(p.relative_to(root)) for p in files if not p.with_suffix(".txt").is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise UsageError(f"corpus {root}: no .txt reference for {len(missing)} file(s): {shown}")
    items = []
    for path in files[:limit]:
        reference = path.with_suffix(".txt").read_text(encoding="utf-8").strip()
        try:
            audio = load_audio(path)
        except AudioInputError as exc:
            raise AudioInputError(f"corpus {exc.message}") from None
        relative = path.relative_to(root)
        parent = relative.parent.as_posix()
        items.append(CorpusItem(relative.as_posix(), parent, reference, audio))
    return items
