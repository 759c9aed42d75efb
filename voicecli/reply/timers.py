"""Timers on the pipeline clock: set, list, cancel, and a spoken notice when one fires.

Why the pipeline clock: a live clock runs with wall time while no samples arrive, so a muted or
typed-only conversation still fires its timers, and a file clock makes ``--fast`` decide exactly
as a real-time run would. One ManagedThread per pipeline checks the board every 50 ms while a
timer runs, and sleeps until one is set while none does (hands-free, asleep). At the end
of the input the pipeline calls ``finish``: timers due within the linger time still fire, the
rest are reported cancelled, then the pipeline may end.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicecli.core.events import Event, TimerEvent
from voicecli.core.lifecycle import IDLE_WAIT_S, ManagedThread

CHECK_S = 0.05  # how often the board looks for due timers


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass
class Timer:
    id: int
    label: str
    duration_s: float
    due: float  # on the pipeline clock


class TimerBoard:
    """The running timers of one conversation; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        emit: Callable[[Event], None],
        announce: Callable[[str], None],
    ) -> None:
        self.clock = clock
        self.emit = emit
        self.announce = announce
        self._timers: dict[int, Timer] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._finish: tuple[float, Callable[[], None]] | None = None  # (deadline, then)
        self._changed = threading.Event()  # a timer set or the end asked: check at once

    # -- used by the timers skill ----------------------------------------------------------
    def set(self, duration_s: float, label: str) -> Timer:
        with self._lock:
            now = self.clock.now()
            timer = Timer(next(self._ids), label, duration_s, now + duration_s)
            self._timers[timer.id] = timer
            self.emit(TimerEvent(t=now, id=timer.id, label=label, due_in_s=duration_s))
        self._changed.set()
        return timer

    def running(self) -> list[Timer]:
        """The timers not yet fired, soonest first."""
        with self._lock:
            return sorted(self._timers.values(), key=lambda t: t.due)

    def remaining_s(self, timer: Timer) -> float:
        return max(0.0, timer.due - self.clock.now())

    def cancel(self, timer: Timer) -> bool:
        """False when it had already fired or been cancelled."""
        with self._lock:
            return self._cancel(timer)

    def cancel_all(self) -> list[Timer]:
        """Cancel every running timer (the pipeline closes); returns them."""
        with self._lock:
            timers = sorted(self._timers.values(), key=lambda t: t.due)
            for timer in timers:
                self._cancel(timer)
            return timers

    # -- used by the pipeline --------------------------------------------------------------
    def finish(self, linger_s: float, then: Callable[[], None]) -> None:
        """No more input: keep firing timers due within ``linger_s``, report the rest
        cancelled, then call ``then`` (once, possibly at once)."""
        with self._lock:
            self._finish = (self.clock.now() + linger_s, then)
        self.check()
        self._changed.set()

    def run(self, thread: ManagedThread) -> None:
        thread.on_stop(self._changed.set)
        while True:
            with self._lock:
                busy = bool(self._timers) or self._finish is not None
            self._changed.wait(CHECK_S if busy else IDLE_WAIT_S)
            self._changed.clear()
            if thread.should_stop():
                return
            self.check()

    def check(self) -> None:
        """Fire what is due; end the linger when nothing more is due within it."""
        with self._lock:
            now = self.clock.now()
            for timer in sorted(self._timers.values(), key=lambda t: t.due):
                if timer.due <= now:
                    del self._timers[timer.id]
                    self.emit(
                        TimerEvent(t=now, id=timer.id, label=timer.label, due_in_s=0.0, fired=True)
                    )
                    self.announce(f"Your {timer.label} timer is done.")
            if self._finish is None:
                return
            deadline, then = self._finish
            if any(t.due <= deadline for t in self._timers.values()):
                return
            for timer in sorted(self._timers.values(), key=lambda t: t.due):
                self._cancel(timer)
            self._finish = None
        then()

    def _cancel(self, timer: Timer) -> bool:
        if self._timers.pop(timer.id, None) is None:
            return False
        now = self.clock.now()
        self.emit(
            TimerEvent(
                t=now,
                id=timer.id,
                label=timer.label,
                due_in_s=max(0.0, timer.due - now),
                cancelled=True,
            )
        )
        return True
