"""Events of hands-free listening: the wake word was heard, and the listening state changed.

Why separate events: the dashboard's state line and the ``--plain`` printer show them, and
every consumer (JSON printer, server, bench) reads the same stream. Documented in
docs/events.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from voicecli.core.events import Event, register

ASLEEP, AWAKE, FOLLOW_UP = "asleep", "awake", "follow_up"


@dataclass(frozen=True, kw_only=True)
class WakeWordHeard(Event):
    """The wake-word model's averaged probability crossed its cutoff; ``t`` is the end of the
    frame it crossed in (the turn's audio starts there)."""

    type: ClassVar[str] = "wake"
    word: str
    probability: float


@dataclass(frozen=True, kw_only=True)
class WakeState(Event):
    """``asleep``: only the wake-word model listens; ``awake``: the next turn is taken;
    ``follow_up``: after a reply, a turn is taken without the wake word for ``seconds_left``."""

    type: ClassVar[str] = "wake_state"
    state: str
    word: str
    seconds_left: float | None = None


for _cls in (WakeWordHeard, WakeState):
    register(_cls)
