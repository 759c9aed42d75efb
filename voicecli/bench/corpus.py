"""Benchmark corpora: audio files with reference transcripts, or a bundled set.

Why generated: audio is not committed, so the bundled sets are spoken on the fly by espeak-ng
(``voicecli.reply.synth``) from fixed phrase lists, the same on every machine: ``DEFAULT_PHRASES``
for the pipeline, ``LLM_PHRASES`` (open questions mixed with skill questions) when a language
model is benchmarked. ``--corpus DIR`` takes
any folder of audio files, each with a ``.txt`` reference beside it (``a.wav`` + ``a.txt``) or
named in a ``truth.json`` in its folder (file -> {text, and optionally kind, speaker}), as
labelled corpora come; sub-folders (or a truth.json ``kind``) become named sets (``clean``,
``noisy``, ``wake_word``, ...) that the report keeps apart. ``load_noise`` reads a folder of
recordings with no speech in them: every word heard there is a false transcript.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.errors import AudioInputError, UsageError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
TRUTH_FILE = "truth.json"
NOISE_SET = "noise"

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
    speaker: str = ""  # truth.json's speaker, when it names one

    @property
    def is_noise(self) -> bool:
        """From ``load_noise``: no speech in it, so every word heard is a false transcript."""
        return self.set == NOISE_SET or self.set.startswith(NOISE_SET + "/")

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


def _truth(folder: Path, cache: dict[Path, dict]) -> dict:
    """``folder/truth.json`` (file name -> {text, ...}), read once; {} when there is none."""
    if folder not in cache:
        path = folder / TRUTH_FILE
        cache[folder] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UsageError(f"corpus {path}: not readable JSON ({exc})") from None
            if not isinstance(data, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("text"), str) for v in data.values()
            ):
                raise UsageError(f"corpus {path}: expected file -> {{text: ...}} for every entry")
            cache[folder] = data
    return cache[folder]


def _label(root: Path, path: Path, cache: dict[Path, dict]) -> tuple[str, str, str] | None:
    """(reference, set, speaker) of one file, from truth.json or the .txt beside it."""
    entry = _truth(path.parent, cache).get(path.name)
    folder = path.relative_to(root).parent.as_posix()
    if entry is not None:
        return (
            entry["text"].strip(),
            str(entry.get("kind") or folder),
            str(entry.get("speaker", "")),
        )
    txt = path.with_suffix(".txt")
    if txt.is_file():
        return txt.read_text(encoding="utf-8").strip(), folder, ""
    return None


def _read(path: Path) -> np.ndarray:
    from voicecli.audio.file import load_audio

    try:
        return load_audio(path)
    except AudioInputError as exc:
        raise AudioInputError(f"corpus {exc.message}") from None


def _audio_files(root: Path, what: str) -> list[Path]:
    if not root.is_dir():
        raise UsageError(f"{what} {root}: not a directory")
    files = find_audio(root)
    if not files:
        raise UsageError(
            f"{what} {root}: no audio files ({', '.join(AUDIO_SUFFIXES)})",
            hint="generate one with: python benchmarks/make_corpus.py" if what == "corpus" else "",
        )
    return files


def load_corpus(root: str | Path, limit: int | None = None) -> list[CorpusItem]:
    """Every audio file under ``root`` with its reference; bad input is a clear error."""
    root = Path(root)
    files = _audio_files(root, "corpus")
    cache: dict[Path, dict] = {}
    labels = {path: _label(root, path, cache) for path in files}
    missing = [str(p.relative_to(root)) for p, label in labels.items() if label is None]
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise UsageError(
            f"corpus {root}: no .txt or {TRUTH_FILE} reference for {len(missing)} file(s): {shown}"
        )
    items = []
    for path in files[:limit]:
        reference, set_name, speaker = labels[path]
        name = path.relative_to(root).as_posix()
        items.append(CorpusItem(name, set_name, reference, _read(path), speaker))
    return items


def load_noise(root: str | Path, limit: int | None = None) -> list[CorpusItem]:
    """Every audio file under ``root`` as speech-free noise (reference ""), one set per folder."""
    root = Path(root)
    items = []
    for path in _audio_files(root, "noise")[:limit]:
        relative = path.relative_to(root)
        folder = relative.parent.as_posix()
        name = NOISE_SET if folder == "." else f"{NOISE_SET}/{folder}"
        items.append(CorpusItem(relative.as_posix(), name, "", _read(path)))
    return items
