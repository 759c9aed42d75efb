"""Ask back, don't guess: a doubtful spoken turn that would change something is asked first.

Why: tiny.en mishears, and acting on a mishearing ("cancel all timers") is worse than a short
question. A spoken turn is doubtful when the decoder's own confidence is low (average
log-probability, no-speech probability: thresholds in ``ConfirmConfig``, chosen on real
recordings in benchmarks/CONFIRM.md). Then:

- if the skill that would take it acts (it has ``confirm_question``: timers, stop), the
  question is asked ("Cancel all timers?") and the request kept until the next turn or
  ``window_s``; "yes" carries it out, "no" gets "OK." and drops it, anything else drops it and
  is answered as itself;
- otherwise (a question, an unknown request) the answer is "Sorry, I didn't catch that."

Typed turns are never doubted. Each step is a ``confirm`` event (asked, confirmed, declined,
expired). docs/confirm.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from voicecli.core.config import ConfirmConfig
from voicecli.core.events import CONFIRM_STATES, ConfirmEvent, Event
from voicecli.core.messages import UserTurn
from voicecli.reply.context import SkillContext
from voicecli.reply.skills import Skill

SORRY = "Sorry, I didn't catch that."
DECLINED = "OK."
ASKED, CONFIRMED, DECLINED_STATE, EXPIRED = CONFIRM_STATES

_YES = {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right", "affirmative"}
_YES_PHRASES = ("do it", "go ahead", "please do", "that's right", "that is right")
_NO = {"no", "nope", "nah", "negative", "don't", "dont"}
_NO_PHRASES = ("do not", "never mind", "nevermind", "forget it")


def doubtful(config: ConfirmConfig, avg_logprob: float | None, no_speech: float | None) -> bool:
    """Low confidence: average log-probability below, or no-speech probability above, the
    configured thresholds (None: not measured, not doubtful)."""
    low = avg_logprob is not None and avg_logprob < config.log_prob_below
    silent = no_speech is not None and no_speech > config.no_speech_above
    return low or silent


def yes_or_no(text: str) -> bool | None:
    """True for "yes" (and its usual forms), False for "no", None for anything else."""
    words = " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())
    first = words.split()[:1]
    if first and first[0] in _NO or words.startswith(_NO_PHRASES):
        return False
    if first and first[0] in _YES or words.startswith(_YES_PHRASES):
        return True
    return None


def question_for(skills: tuple[Skill, ...], text: str, context: SkillContext) -> str | None:
    """The yes/no question when the skill that would take ``text`` acts, else None.

    Skills are tried in their order; a skill with ``confirm_question`` returns the question
    when ``text`` makes it change something (and then only then), None otherwise, and its
    ``answer`` is consulted like any other's: an earlier skill that answers takes the turn."""
    for skill in skills:
        ask = getattr(skill, "confirm_question", None)
        question = ask(text, context) if ask is not None else None
        if question:
            return question
        if skill.answer(text, context) is not None:
            return None
    return None


@dataclass(frozen=True)
class Pending:
    text: str  # the request, as transcribed
    question: str
    asked_at: float  # pipeline clock


@dataclass(frozen=True)
class Screened:
    """What to answer: ``text`` through the brain, or the fixed ``say`` (the brain not asked)."""

    text: str
    say: str | None = None

    def deltas(self, stream: Callable[[str], Iterator[str]]) -> Iterator[str]:
        if self.say is None:
            yield from stream(self.text)
        else:
            yield self.say


class Confirmer:
    """One conversation's pending question; used by the responder's thread only."""

    def __init__(
        self,
        config: ConfirmConfig,
        skills: tuple[Skill, ...],
        context: SkillContext,
        emit: Callable[[Event], None],
        now: Callable[[], float],
    ) -> None:
        self.config = config
        self.skills = skills
        self.context = context
        self.emit = emit
        self.now = now  # the pipeline clock (tests: their own)
        self.pending: Pending | None = None

    def doubts(self, turn: UserTurn) -> bool:
        """Would this turn be questioned (spoken, low confidence, asking on)?"""
        return (
            self.config.enabled
            and not turn.typed
            and doubtful(self.config, turn.avg_logprob, turn.no_speech_prob)
        )

    def screen(self, turn: UserTurn) -> Screened:
        """Decide what ``turn`` gets: its own answer, a question, or the pending request."""
        self.expire()
        pending, self.pending = self.pending, None
        if pending is not None:
            answer = yes_or_no(turn.text)
            if answer is True:
                self._emit(CONFIRMED, pending, turn.number)
                return Screened(pending.text)
            if answer is False:
                self._emit(DECLINED_STATE, pending, turn.number)
                return Screened(turn.text, say=DECLINED)
            self._emit(EXPIRED, pending, turn.number)  # a new request replaces the question
        if not self.doubts(turn):
            return Screened(turn.text)
        question = question_for(self.skills, turn.text, self.context)
        if question is None:
            return Screened(turn.text, say=SORRY)
        self.pending = Pending(turn.text, question, self.now())
        self._emit(ASKED, self.pending, turn.number)
        return Screened(turn.text, say=question)

    def expire(self) -> None:
        """Drop the pending request once ``window_s`` has passed (the responder calls this
        while idle, so ``expired`` is told on time)."""
        pending = self.pending
        if pending is not None and self.now() - pending.asked_at >= self.config.window_s:
            self.pending = None
            self._emit(EXPIRED, pending, None)

    def _emit(self, state: str, pending: Pending, turn: int | None) -> None:
        self.emit(
            ConfirmEvent(
                t=self.now(), turn=turn, state=state, text=pending.text, question=pending.question
            )
        )
