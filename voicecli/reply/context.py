"""What a conversation knows (``Conversation``) and ``SkillContext``: everything a skill (or a
brain) may consult, handed over explicitly.

Why: skills used to get an untyped ``conversation`` with attributes set from outside (the
pipeline's timers) and found the thermal monitor through a module global. Now the pipeline
builds one context per conversation and the responder passes it with every turn; a test
builds its own with a fixed clock or its own timer board. docs/skills.md describes the
interface.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.timers import TimerBoard
    from voicecli.thermal.monitor import ThermalStatus


@dataclass
class Exchange:
    user: str
    assistant: str


@dataclass
class Conversation:
    """What one conversation remembers; each server session has its own."""

    history: list[Exchange] = field(default_factory=list)
    max_turns: int = 50
    last_reply: str | None = None  # what was last said aloud (a reply or a notice): "repeat that"

    def add(self, user: str, assistant: str) -> None:
        self.history.append(Exchange(user, assistant))
        del self.history[: -self.max_turns]
        if assistant:
            self.last_reply = assistant

    def last_user(self) -> str | None:
        return self.history[-1].user if self.history else None


def _no_reading() -> ThermalStatus | None:
    return None


@dataclass(frozen=True)
class SkillContext:
    """``conversation``: history and the last thing said; ``timers``: this conversation's
    board (None where timers cannot run); ``thermal``: the latest reading of the running
    thermal monitor (None without one); ``clock``: wall-clock seconds (time and date skills)."""

    conversation: Conversation
    timers: TimerBoard | None = None
    thermal: Callable[[], ThermalStatus | None] = field(default=_no_reading)
    clock: Callable[[], float] = field(default=time.time)
