"""How the dashboard and the ``--plain`` printer say the hands-free state.

Why from the event's wall time: a ``wake_state`` event is sent only when the state changes, so
the follow-up countdown ("follow-up 3 s left") is worked out from when it began.
"""

from __future__ import annotations

import math
import time

from voicecli.core.events import ASLEEP, FOLLOW_UP, WakeState


def phrase(word: str) -> str:
    return word.replace("_", " ")


def seconds_left(state: WakeState, now: float | None = None) -> int | None:
    if state.seconds_left is None:
        return None
    now = time.monotonic() if now is None else now
    return max(0, math.ceil(state.wall + state.seconds_left - now))


def wake_label(state: WakeState, now: float | None = None) -> str:
    """``asleep, say "okay nabu"`` | ``awake`` | ``follow-up 3 s left``."""
    if state.state == ASLEEP:
        return f'asleep, say "{phrase(state.word)}"'
    left = seconds_left(state, now)
    if state.state == FOLLOW_UP:
        return f"follow-up {left} s left"
    return "awake" if left is None else f"awake, {left} s left"
