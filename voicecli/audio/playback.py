"""The playback line: the one way to stop the assistant speaking, and the one emitter of
``playback`` events.

Why one object: "stop talking" comes from many places -- a turn that says "stop", barge-in and
a short "stop" heard by the echo guard, the ``s`` key, a server client's ``interrupt``, the
server seeing its client speak, a protocol client told ``audio_stop`` -- and each must cancel
the reply being made, silence the sink at once and report ``playback`` {state: "cut"} exactly
once. Every one of them calls ``interrupt``; the responder only says when a reply's audio
starts (``started``) and when it has all been handed over (``end_reply``).

A barge-in first *pauses* (``pause``: silent at once, the queued audio and the generation
kept) until what was said is known: then ``interrupt`` (a real turn, a "stop") or ``resume``
(no words, a backchannel) decides it, and the one ``barge_in`` event says how.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicecli.audio.sink import AudioSink
from voicecli.core.events import BargeIn, Event, Playback
from voicecli.core.messages import BARGE_IN, STOP_WORD, Interrupt

IDLE, STARTED, STOPPED, CUT = "idle", "started", "stopped", "cut"
PAUSED, RESUMED = "paused", "resumed"
# a barge-in's outcome (``barge_in`` event)
INTERRUPTED, STOPPED_BY_USER = "interrupted", "stopped"
RESUMED_OUTCOME, IGNORED = "resumed", "ignored"


@dataclass(frozen=True)
class _Pause:
    """A barge-in being decided: when it paused playback, and how fast that was."""

    request: Interrupt
    at: float  # monotonic
    stop_ms: float | None


class Cancellable(Protocol):
    """The reply being made (reply.brain.ReplyControl)."""

    @property
    def cancelled(self) -> bool: ...

    def cancel(self) -> None: ...


class PlaybackLine:
    """One per sink: what is being made and played on it, and the way to stop it."""

    def __init__(
        self,
        sink: AudioSink,
        emit: Callable[[Event], None],
        now: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.sink = sink
        self.emit = emit
        self.now = now  # the pipeline clock, for the events' ``t``
        self._lock = threading.Lock()
        self._making: Cancellable | None = None
        self._state = IDLE  # of the latest reply whose audio started
        self._turn: int | None = None
        self._pause: _Pause | None = None

    # -- the responder's side --------------------------------------------------------------
    def making(self, control: Cancellable | None) -> None:
        """The reply now being made (None: none), for ``interrupt`` to cancel."""
        with self._lock:
            self._making = control

    def started(self, turn: int | None, control: Cancellable) -> bool:
        """The reply's first audio is about to reach the sink: ``playback`` started. False
        (and nothing emitted) when the reply was interrupted already: drop the audio."""
        with self._lock:
            if control.cancelled or control is not self._making:
                return False
            self._state, self._turn = STARTED, turn
            self.emit(Playback(t=self.now(), turn=turn, state=STARTED))
        return True

    def end_reply(self) -> None:
        """The whole reply is in the sink: wait until it is heard (a real-time sink), then
        ``playback`` stopped -- unless ``interrupt`` cut it meanwhile (it said so)."""
        self.sink.end_reply()
        with self._lock:
            if self._state in (STARTED, PAUSED):
                self._state, self._pause = STOPPED, None
                self.emit(Playback(t=self.now(), turn=self._turn, state=STOPPED))

    # -- everyone else ---------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._pause is not None

    def pause(self, request: Interrupt) -> bool:
        """A barge-in: silence the reply now but keep it (``playback`` paused), until
        ``interrupt`` or ``resume`` decides. False (nothing done) when no reply is playing or
        the sink cannot pause: then the caller interrupts as before."""
        with self._lock:
            if self._state != STARTED or self._pause is not None:
                return False
            if not self.sink.pause():
                return False
            self._state = PAUSED
            self._pause = _Pause(request, time.monotonic(), self._stop_ms(request.wall))
            turn = self._turn
        self.emit(Playback(t=self.now(), turn=turn, state=PAUSED))
        return True

    def resume(self, outcome: str, text: str | None = None) -> bool:
        """Not an interruption after all (``outcome``: resumed or ignored): play on from the
        start of the paused sentence, ``playback`` resumed. False when nothing was paused."""
        with self._lock:
            pause, self._pause = self._pause, None
            if pause is None:
                return False
            if self._state == PAUSED:
                self._state = STARTED
            turn = self._turn
        self.sink.resume()
        self.emit(Playback(t=self.now(), turn=turn, state=RESUMED))
        self._decided(pause, outcome, text)
        return True

    def _decided(self, pause: _Pause, outcome: str, text: str | None) -> None:
        self.emit(
            BargeIn(
                t=self.now(),
                speech_ms=round(pause.request.speech_ms or 0.0, 1),
                stop_ms=pause.stop_ms,
                text=text,
                outcome=outcome,
                decide_ms=round((time.monotonic() - pause.at) * 1000, 1),
            )
        )

    def interrupt(self, request: Interrupt) -> bool:
        """Stop speaking now: cancel the reply being made, cut the sink, emit ``playback``
        cut once (and ``barge_in`` for the echo guard's causes, or when it decides a paused
        barge-in). True when anything stopped."""
        with self._lock:
            control, self._making = self._making, None
            pause, self._pause = self._pause, None
            reported = self._state in (STARTED, PAUSED) or (
                self._state == STOPPED and request.still_audible
            )
            if reported:  # decided here: end_reply, racing with us, then reports nothing
                self._state = CUT
            turn = self._turn
        if reported:  # first: once cancelled, the responder goes on to its turn_metrics
            self.emit(Playback(t=self.now(), turn=turn, state=CUT))
        made = control is not None and not control.cancelled
        if made:
            control.cancel()  # generation stops (its hooks close an HTTP stream)
        cut = self.sink.cut()
        stopped = made or cut or reported
        if pause is not None:
            outcome = INTERRUPTED if request.cause == BARGE_IN else STOPPED_BY_USER
            self._decided(pause, outcome, request.text)
        elif request.cause == BARGE_IN or (request.cause == STOP_WORD and stopped):
            self.emit(
                BargeIn(
                    t=self.now(),
                    speech_ms=round(request.speech_ms or 0.0, 1),
                    stop_ms=self._stop_ms(request.wall),
                    text=request.text,
                    outcome=INTERRUPTED if request.cause == BARGE_IN else STOPPED_BY_USER,
                )
            )
        return stopped

    def _stop_ms(self, wall: float) -> float | None:
        """From ``wall`` (when the deciding audio was captured) to the sink's silence."""
        silent_at = self.sink.silent_at
        if silent_at is None or silent_at < wall:
            return None
        return round((silent_at - wall) * 1000, 1)
