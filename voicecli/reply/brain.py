"""The reply brain: turns a user's words into a stream of reply text.

Why a stream of deltas: an LLM produces its answer token by token, and the first sentence must
reach TTS before the rest exists. Skills answer exactly what code can (arithmetic, time,
recall, ...) and are tried first; whatever no skill takes gets the polite fallback (or, once
configured, a language model).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from voicecli.reply.skills import SKILLS, Skill

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

FALLBACK = (
    "Sorry, I can't help with that yet. I can tell the time and the date, convert units, "
    "run timers and do arithmetic. Say help to hear more."
)


class ReplyControl:
    """One reply's link between the responder and the brain.

    Why: an interrupt (barge-in) comes from another thread while the brain may be blocked
    reading a socket; ``cancel`` sets the flag and runs the hooks the brain registered (closing
    the HTTP stream), so generation stops at once. The brain records when the LLM's first
    token arrived, for ``turn_metrics.first_token_ms``.
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.first_token_wall: float | None = None  # time.monotonic() of the first LLM token

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the reply is cancelled (at once if it already was)."""
        with self._lock:
            if not self._cancelled.is_set():
                self._hooks.append(hook)
                return
        hook()

    def first_token(self) -> None:
        if self.first_token_wall is None:
            self.first_token_wall = time.monotonic()


class ReplyFailed(Exception):
    """A brain could not answer (LLM timeout, HTTP error, lost connection): the user hears
    ``spoken`` and an ``error`` {fatal:false} with ``code`` is emitted; the conversation goes on."""

    def __init__(self, code: str, message: str, spoken: str) -> None:
        super().__init__(message)
        self.code = code
        self.spoken = spoken


class Brain:
    """Base class: ``reply`` yields text deltas for one user turn, given the conversation's
    ``SkillContext`` (its history is ``context.conversation``)."""

    name = "brain"

    def reply(self, text: str, context: SkillContext) -> Iterator[str]:
        raise NotImplementedError

    def stream(self, text: str, context: SkillContext, control: ReplyControl) -> Iterator[str]:
        """``reply`` that honours ``control`` (cancellation); LLM brains override it."""
        return self.reply(text, context)

    def close(self) -> None:
        """Free what the brain holds (an embedded model); the owner calls it once."""


def skill_answer(skills: tuple[Skill, ...], text: str, context: SkillContext) -> str | None:
    """The first skill's exact answer, or None when no skill knows ("" is an answer: "stop"
    is understood and nothing is to be said)."""
    for skill in skills:
        answer = skill.answer(text, context)
        if answer is not None:
            return answer
    return None


class SkillsBrain(Brain):
    name = "skills"

    def __init__(self, skills: tuple[Skill, ...] = SKILLS) -> None:
        self.skills = skills

    def reply(self, text: str, context: SkillContext) -> Iterator[str]:
        answer = skill_answer(self.skills, text, context)
        yield FALLBACK if answer is None else answer


class EchoBrain(Brain):
    """Says back what it heard: for tests and for checking a microphone."""

    name = "echo"

    def reply(self, text: str, context: SkillContext) -> Iterator[str]:
        yield text


BRAINS = {"skills": SkillsBrain, "echo": EchoBrain}
