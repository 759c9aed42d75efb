"""Recognition bias: a prompt for the speech recogniser made of what the assistant understands.

Why here and not in listen/: the words come from the skills (each module's ``VOCABULARY``),
the wake word setting and the conversation, all above the recogniser; the pipeline hands the
finished text down (``Listener(prompt=...)``), so listen/ sees a plain string.

Numbers never go in: no skill lists one, and the previous turn is given without its numbers.
Whisper copies numbers from its prompt ("nine times seven" heard as "8 times 7" after a
prompt with "8"), while a number said is heard well without help. ``stt.bias`` chooses it:
``skills`` (this prompt) or ``off``; docs/recognition.md has the measurements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

from voicecli.core.config import Config
from voicecli.core.errors import UsageError
from voicecli.reply.numbers import NUMBER_WORDS
from voicecli.reply.skills import SKILLS

BIAS_MODES = ("skills", "off")
_NUMBERISH = re.compile(r"\d")
_WORD = re.compile(r"\d[\d.,:]*\d|[\w'-]+|[^\w\s]")  # "3.5" and "7:45" are one word


def skill_vocabulary(skills: Iterable[ModuleType] = SKILLS) -> tuple[str, ...]:
    """Each skill's ``VOCABULARY`` in skill order, each phrase once."""
    seen: dict[str, None] = {}
    for skill in skills:
        for phrase in getattr(skill, "VOCABULARY", ()):
            seen.setdefault(phrase, None)
    return tuple(seen)


def _is_number(word: str) -> bool:
    parts = [p for p in word.lower().split("-") if p]
    return bool(_NUMBERISH.search(word)) or bool(parts) and all(p in NUMBER_WORDS for p in parts)


def without_numbers(text: str) -> str:
    """``text`` with every number dropped, digits or words ("What is 8 times three?" ->
    "What is times?")."""
    kept = [w for w in _WORD.findall(text) if not _is_number(w)]
    joined = " ".join(kept)
    return re.sub(r"\s+([^\w\s])", r"\1", joined).strip()


def spoken_wake_word(name: str) -> str:
    """The wake model's id as said: "hey_jarvis" -> "Hey Jarvis"."""
    return " ".join(part.capitalize() for part in name.replace("_", " ").split())


@dataclass
class RecognitionBias:
    """The prompt for one conversation: fixed words, then the last turn heard (``heard``)."""

    vocabulary: tuple[str, ...]
    wake_word: str = ""
    previous: str = ""  # the previous user turn, numbers removed

    def heard(self, text: str) -> None:
        """A turn was declared (spoken or typed): the next utterance is conditioned on it."""
        self.previous = without_numbers(text)

    def prompt(self) -> str:
        """Wake word, the skills' words, then the previous turn: Whisper weighs the end of its
        prompt most, and the turn just said is the best guess at what comes next."""
        parts = []
        if self.wake_word:
            parts.append(f"{self.wake_word}.")
        if self.vocabulary:
            words = ", ".join(self.vocabulary)
            parts.append(words[0].upper() + words[1:] + ".")
        if self.previous:
            parts.append(self.previous)
        return " ".join(parts)


def bias_for(config: Config, skills: Iterable[ModuleType] = SKILLS) -> RecognitionBias | None:
    """The conversation's bias as ``stt.bias`` asks, or None for ``off``."""
    mode = config.stt.bias
    if mode not in BIAS_MODES:
        raise UsageError(f"setting stt.bias: {mode!r} is not one of {', '.join(BIAS_MODES)}")
    if mode == "off":
        return None
    wake = spoken_wake_word(config.wake.word) if config.wake.word else ""
    return RecognitionBias(vocabulary=skill_vocabulary(skills), wake_word=wake)
