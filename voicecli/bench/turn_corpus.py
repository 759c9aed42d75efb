"""Turn-taking corpora: recordings with a known number of turns.

Why these: the two failures people complain about are being cut off (a turn declared inside
one true turn) and waiting; a recording whose number of turns is known measures both. A
``--corpus`` path is a folder holding ``labels.json`` (file -> {"turns": N}, the real
``turns/`` set) or ``truth.json`` (one turn per file, the real ``utterances/`` set), or one
audio file (one turn, e.g. ``jfk.flac``). Every recording gets ``PAD_BEFORE_S`` of silence
before and ``PAD_AFTER_S`` after, so its last turn ends by silence as it would live. The
bundled set (no ``--corpus``) is synthetic conversations spoken by espeak-ng with known turn
counts, pauses inside sentences and lists, and pauses between turns.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.bench.corpus import AUDIO_SUFFIXES
from voicecli.core.errors import AudioInputError, UsageError

PAD_BEFORE_S = 0.5
PAD_AFTER_S = 3.0
GAP_S = 2.0  # between two turns of a synthetic conversation

# Synthetic conversations: strings are spoken, numbers are pauses (seconds); a "|" marks the
# end of a turn (followed by GAP_S of silence). Pauses inside a turn: a hesitation in a list,
# a breath in the middle of a sentence.
SYNTHETIC = (
    ("Remind me to buy bread,", 0.6, "butter", 0.5, "and jam.", "|", "Thank you."),
    ("What is the weather", 0.5, "in Paris tomorrow?", "|", "And in London?"),
    ("Set a timer for", 0.6, "ten minutes.", "|", "Cancel it.", "|", "What time is it?"),
    ("Play some music.", "|", "Louder please.", "|", "Stop."),
    ("I would like a large coffee", 0.5, "with milk", 0.5, "and two sugars.", "|", "Thanks."),
    ("Turn off the lights in the kitchen.", "|", "And the living room."),
)
SYNTHETIC_VOICES = ("gmw/en-us", "gmw/en")


@dataclass(frozen=True)
class TurnItem:
    name: str
    set: str  # turns | utterances | jfk | synthetic | ...
    turns: int  # true number of turns
    audio: np.ndarray  # padded, 16 kHz mono float32
    speaker: str = ""  # for the tuning split (real sets)


def pad(audio: np.ndarray) -> np.ndarray:
    from voicecli.reply.synth import silence

    return np.concatenate([silence(PAD_BEFORE_S), audio, silence(PAD_AFTER_S)])


def _load(path: Path) -> np.ndarray:
    from voicecli.audio.file import load_audio

    try:
        return load_audio(path)
    except AudioInputError as exc:
        raise AudioInputError(f"corpus {exc.message}") from None


def load_turn_corpus(path: str | Path, limit: int | None = None) -> list[TurnItem]:
    """The recordings of one ``--corpus`` path (folder with labels, or one audio file)."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in AUDIO_SUFFIXES:
        return [TurnItem(path.name, path.stem, 1, pad(_load(path)), speaker=path.stem)]
    if not path.is_dir():
        raise UsageError(f"turn corpus {path}: not an audio file or a folder")
    labels = path / "labels.json"
    truth = path / "truth.json"
    if not labels.is_file() and not truth.is_file():
        raise UsageError(f"turn corpus {path}: no labels.json (turn counts) or truth.json")
    source = labels if labels.is_file() else truth
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"turn corpus {source}: {exc}") from None
    items = []
    for name in sorted(data)[:limit]:
        entry = data[name] if isinstance(data[name], dict) else {}
        turns = int(entry.get("turns", 1))
        speaker = str(entry.get("speaker") or name)  # unlabelled crowd speakers: one per file
        if speaker.endswith("unknown_speaker"):
            speaker = name
        items.append(TurnItem(name, path.name, turns, pad(_load(path / name)), speaker))
    return items


def discover(root: str | Path, limit: int | None = None) -> list[TurnItem]:
    """A ``--corpus`` path: a labelled folder or audio file, or a folder whose labelled
    sub-folders (any depth) are sets and whose own audio files are one turn each."""
    root = Path(root)
    if root.is_file() or (root / "labels.json").is_file() or (root / "truth.json").is_file():
        return load_turn_corpus(root, limit)
    if not root.is_dir():
        raise UsageError(f"turn corpus {root}: not an audio file or a folder")
    folders = sorted(  # os.walk: a corpus may be symbolic links to the recordings
        Path(top)
        for top, _dirs, names in os.walk(root, followlinks=True)
        if "labels.json" in names or "truth.json" in names
    )
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    items = [i for f in files for i in load_turn_corpus(f)][:limit]
    items += [i for folder in folders for i in load_turn_corpus(folder, limit)]
    if not items:
        raise UsageError(f"turn corpus {root}: no labels.json, truth.json or audio file")
    return items


def synthetic_corpus(limit: int | None = None) -> list[TurnItem]:
    """The bundled conversations, voices alternating."""
    from voicecli.reply.synth import compose

    items = []
    for index, script in enumerate(SYNTHETIC[:limit]):
        voice = SYNTHETIC_VOICES[index % len(SYNTHETIC_VOICES)]
        parts = [GAP_S if part == "|" else part for part in script]
        audio = pad(compose(*parts, voice=voice, rate=160))
        turns = script.count("|") + 1
        items.append(TurnItem(f"synthetic/{index + 1:02d}", "synthetic", turns, audio, voice))
    return items


def speaker_half(items: list[TurnItem], half: int) -> list[TurnItem]:
    """The tuning (0) or held-back (1) half, split by speaker: every other speaker in sorted
    order, so no speaker is in both halves."""
    speakers = sorted({item.speaker for item in items})
    chosen = set(speakers[half::2])
    return [item for item in items if item.speaker in chosen]
