"""The reply brain: turns a user's words into a stream of reply text.

Why a stream of deltas: an LLM produces its answer token by token, and the first sentence must
reach TTS before the rest exists. Skills answer exactly what code can (arithmetic, time,
recall, ...) and are tried first; whatever no skill takes gets the polite fallback (or, once
configured, a language model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from voicecli.skills import SKILLS, Skill

FALLBACK = (
    "Sorry, I can't help with that yet. Ask me to do arithmetic, tell the time, "
    "or repeat what you just asked."
)


@dataclass
class Exchange:
    user: str
    assistant: str


@dataclass
class Conversation:
    """What one conversation remembers; each server session has its own."""

    history: list[Exchange] = field(default_factory=list)
    max_turns: int = 50
    now: Callable[[], float] = time.time  # wall-clock time for the time skill

    def add(self, user: str, assistant: str) -> None:
        self.history.append(Exchange(user, assistant))
        del self.history[: -self.max_turns]

    def last_user(self) -> str | None:
        return self.history[-1].user if self.history else None


class Brain:
    """Base class: ``reply`` yields text deltas for one user turn."""

    name = "brain"

    def reply(self, text: str, conversation: Conversation) -> Iterator[str]:
        raise NotImplementedError


class SkillsBrain(Brain):
    name = "skills"

    def __init__(self, skills: tuple[Skill, ...] = SKILLS) -> None:
        self.skills = skills

    def reply(self, text: str, conversation: Conversation) -> Iterator[str]:
        for skill in self.skills:
            answer = skill.answer(text, conversation)
            if answer:
                yield answer
                return
        yield FALLBACK


class EchoBrain(Brain):
    """Says back what it heard: for tests and for checking a microphone."""

    name = "echo"

    def reply(self, text: str, conversation: Conversation) -> Iterator[str]:
        yield text


BRAINS = {"skills": SkillsBrain, "echo": EchoBrain}
