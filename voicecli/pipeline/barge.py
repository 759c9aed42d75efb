"""Deciding a barge-in: speech over the reply paused it; was it a real interruption?

Why: an echo canceller lets the user be heard over the reply, and so does every cough, door
and "uh-huh". Cutting the reply on each would make the assistant unusable, so a barge-in
only *pauses* playback (the queued audio and the generation kept) and this decides, within
``decide_s``, from what the listener makes of the speech:

* a turn that is a real question -> interrupted (the one interrupt path: ``playback`` cut
  once) and answered;
* a turn that is "stop" (the stop skill's words) -> the pipeline stops the reply and the
  skill answers nothing;
* a backchannel ("uh-huh", "yeah", "okay", "mm-hm") -> ignored: playback resumes from the start
  of the paused sentence, and the turn is not answered;
* no turn within ``decide_s`` (a cough, a laugh): resumed -- unless the listener already has
  words of a turn still being spoken (a partial transcript), which interrupts.
"""

from __future__ import annotations

import re
import threading
import time

from voicecli.audio.playback import IGNORED, RESUMED_OUTCOME, PlaybackLine
from voicecli.core.events import Event, Transcript
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import BARGE_IN, Interrupt, UserTurn
from voicecli.reply.skills.stop import is_stop

_BACKCHANNEL = re.compile(
    r"^(?:(?:uh|um|mm|mhm|hm+|oh|ah|yeah|yes|yep|yup|okay|ok|right|sure|i see|got it|"
    r"alright|all right|cool|nice|wow|really|uh huh|mm hm+|m+ hm+|uh hm|ha|haha|hah)\s*)+$"
)


def is_backchannel(text: str) -> bool:
    """A listener's "I'm following" ("uh-huh", "yeah okay", "mm-hm"): not a turn."""
    words = " ".join(re.sub(r"[^\w' ]+", " ", text.lower().replace("-", " ")).split())
    return bool(words) and bool(_BACKCHANNEL.match(words))


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text) and not is_backchannel(text)


class BargeDecider:
    """Owned by the pipeline: ``paused`` starts a decision, the listener's turns (``take``)
    and partial transcripts (``observe``) settle it, and its thread ends it at the deadline."""

    def __init__(self, playback: PlaybackLine, decide_s: float) -> None:
        self.playback = playback
        self.decide_s = decide_s
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._words: str | None = None  # a partial transcript heard while paused
        self._wake = threading.Event()

    def barge_in(self, request: Interrupt) -> None:
        """Speech over the reply: pause it and decide; where it cannot pause (nothing
        playing, a sink that plays no real time), interrupt at once as before."""
        if not self.playback.pause(request):
            self.playback.interrupt(request)
            return
        with self._lock:
            self._deadline = time.monotonic() + self.decide_s
            self._words = None
        self._wake.set()

    def observe(self, event: Event) -> None:
        """Partial transcripts while paused: words of a turn still being spoken."""
        waiting = self._deadline is not None
        if waiting and isinstance(event, Transcript) and not event.final and _has_words(event.text):
            with self._lock:
                self._words = event.text

    def take(self, turn: UserTurn) -> bool:
        """A declared turn while a barge-in is being decided; True when it is consumed here
        (a backchannel: ignored, playback resumes), False when it goes on to be answered."""
        with self._lock:
            if self._deadline is None or not self.playback.paused:
                return False
            self._deadline = None
        if is_stop(turn.text):  # the pipeline interrupts (stop_turn) and the skill is silent
            return False
        if is_backchannel(turn.text):
            self.playback.resume(IGNORED, turn.text)
            return True
        self.playback.interrupt(Interrupt(BARGE_IN, text=turn.text))
        return False

    def run(self, thread: ManagedThread) -> None:
        """At the deadline: words being spoken interrupt, nothing resumes."""
        while not thread.should_stop():
            self._wake.wait(POLL_S)
            self._wake.clear()
            with self._lock:
                due = self._deadline is not None and time.monotonic() >= self._deadline
                if due:
                    self._deadline = None
                words = self._words
            if not due:
                continue
            if words is not None:
                self.playback.interrupt(Interrupt(BARGE_IN, text=words))
            else:
                self.playback.resume(RESUMED_OUTCOME)
