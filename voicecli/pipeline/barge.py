"""Deciding a barge-in: speech over the reply paused it; was it a real interruption?

Why: an echo canceller lets the user be heard over the reply, and so does every cough, door
and "uh-huh". Cutting the reply on each would make the assistant unusable, so a barge-in
only *pauses* playback (the queued audio and the generation kept) and this decides, within
``decide_s``, from what the listener makes of the speech:

* a turn that is a real question -> interrupted (the one interrupt path: ``playback`` cut
  once) and answered;
* a turn that is "stop" (the stop skill's words) -> stopped (the one interrupt path), and
  the stop skill answers nothing;
* a backchannel ("uh-huh", "yeah", "okay", "mm-hm") -> ignored: playback resumes from the start
  of the paused sentence, and the turn is not answered;
* a few words that are all the reply's own ("Six." over "It's 12:56 PM.") -> resumed, not
  answered: the reply's echo leaking through the canceller, not the user (a false barge-in on
  a short reply under load, tests/audio/test_live_duplex.py);
* no turn within ``decide_s`` (a cough, a laugh): resumed -- unless words are still being
  spoken (a partial transcript while speech goes on), which interrupts, or an utterance is
  still being transcribed (a short "stop", speech that just ended): then its final transcript
  decides, never later than twice ``decide_s`` after the pause.
"""

from __future__ import annotations

import math
import re
import threading
import time

from voicecli.audio.playback import IGNORED, RESUMED_OUTCOME, PlaybackLine
from voicecli.core.events import Event, Reply, SpeechEnd, SpeechStart, Transcript
from voicecli.core.lifecycle import IDLE_WAIT_S, POLL_S, ManagedThread
from voicecli.core.messages import BARGE_IN, STOP_TURN, Interrupt, UserTurn
from voicecli.reply.numbers import words_to_digits
from voicecli.reply.skills.stop import is_stop

_BACKCHANNEL = re.compile(
    r"^(?:(?:uh|um|mm|mhm|hm+|oh|ah|yeah|yes|yep|yup|okay|ok|right|sure|i see|got it|"
    r"alright|all right|cool|nice|wow|really|uh huh|mm hm+|m+ hm+|uh hm|ha|haha|hah)\s*)+$"
)


# A turn heard while the reply is paused waits at least this much silence: the start of a
# question spoken over the reply comes through the echo canceller with gaps, and its first
# words ("Set a ...") were declared a turn of their own and answered (benchmarks/DUPLEX.md)
TURN_WAIT_S = 0.6
# A transcript of at most this many words, all of them the reply's, is its echo: leaks are
# fragments ("Six.", "time"); a question is longer, and may share common words with the reply
ECHO_WORDS_MAX = 3


def is_backchannel(text: str) -> bool:
    """A listener's "I'm following" ("uh-huh", "yeah okay", "mm-hm"): not a turn."""
    words = " ".join(re.sub(r"[^\w' ]+", " ", text.lower().replace("-", " ")).split())
    return bool(words) and bool(_BACKCHANNEL.match(words))


def words_of(text: str) -> list[str]:
    """Lower-case words, numbers as digits ("fifty-six" and "56" alike), no punctuation."""
    return [w for w in words_to_digits(text).split() if any(ch.isalnum() for ch in w)]


def is_echo_of(text: str, reply_words: set[str]) -> bool:
    """``text`` is a few words that all come from the reply: heard from the speaker. A number
    matches a reply number it begins or ends ("6" in "12:56", said "twelve fifty-six")."""
    words = words_of(text)
    return 0 < len(words) <= ECHO_WORDS_MAX and all(_in_reply(w, reply_words) for w in words)


def _in_reply(word: str, reply_words: set[str]) -> bool:
    if word in reply_words:
        return True
    return word.isdigit() and any(
        r.isdigit() and (r.startswith(word) or r.endswith(word)) for r in reply_words
    )


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
        self._paused_at = 0.0
        self._words: str | None = None  # a partial transcript heard while paused
        self._hearing = False  # the listener has an utterance not yet declared or dropped
        self._heard_end: float | None = None  # when that utterance's speech ended
        self._reply: tuple[int | None, set[str]] = (None, set())  # the latest reply's words
        self._wake = threading.Event()

    def barge_in(self, request: Interrupt) -> None:
        """Speech over the reply: pause it and decide; where it cannot pause (nothing
        playing, a sink that plays no real time), interrupt at once as before."""
        if not self.playback.pause(request):
            self.playback.interrupt(request)
            return
        with self._lock:
            self._paused_at = time.monotonic()
            self._deadline = self._paused_at + self.decide_s
            self._words = None
        self._wake.set()

    @property
    def deciding(self) -> bool:
        """A barge-in paused the reply and is not decided yet."""
        return self._deadline is not None and self.playback.paused

    def turn_wait_floor(self) -> float:
        """The listener's shortest turn wait now (Listener.wait_floor): while deciding, no
        turn until TURN_WAIT_S after the pause (the words held before it reach the listener
        at once, silences the canceller made in them included), then TURN_WAIT_S of silence."""
        if not self.deciding:
            return 0.0
        if time.monotonic() < self._paused_at + TURN_WAIT_S:
            return math.inf
        return TURN_WAIT_S

    def observe(self, event: Event) -> None:
        """The listener's progress: partial transcripts (words of a turn still being spoken),
        and whether an utterance is still being heard or transcribed."""
        with self._lock:
            if isinstance(event, SpeechStart):
                self._hearing, self._heard_end = True, None
            elif isinstance(event, SpeechEnd):
                self._heard_end = time.monotonic()
            elif isinstance(event, Transcript) and not event.final and self._deadline is not None:
                if _has_words(event.text) and not is_echo_of(event.text, self._reply[1]):
                    self._words = event.text
            elif isinstance(event, Reply) and not event.final:  # a sentence of it
                turn, words = self._reply
                if event.turn != turn:
                    turn, words = event.turn, set()
                self._reply = (turn, words | set(words_of(event.text)))
            # a final transcript is followed by its turn (``take``), which ends the hearing:
            # ended here, the deadline could resume the reply in between, and the turn was
            # then answered as a new one while the reply played on

    def _undecided(self, now: float) -> bool:
        """An utterance may still become a turn: being spoken, or ended less than
        ``decide_s`` ago (the transcription and the turn's wait); the listener drops
        one without words silently."""
        if not self._hearing:
            return False
        return self._heard_end is None or now - self._heard_end < self.decide_s

    def take(self, turn: UserTurn) -> bool:
        """A declared turn while a barge-in is being decided; True when it is consumed here
        (a backchannel: ignored; the reply's own words: resumed), False when it goes on to be
        answered."""
        with self._lock:
            self._hearing = False  # the utterance became this turn
            if self._deadline is None or not self.playback.paused:
                return False
            self._deadline = None
            echo = is_echo_of(turn.text, self._reply[1])
        if is_stop(turn.text):  # stopped here, even a doubtful one; the skill is silent
            self.playback.interrupt(Interrupt(STOP_TURN, text=turn.text))
            return False
        if is_backchannel(turn.text):
            self.playback.resume(IGNORED, turn.text)
            return True
        if echo:
            self.playback.resume(RESUMED_OUTCOME, turn.text)
            return True
        self.playback.interrupt(Interrupt(BARGE_IN, text=turn.text))
        return False

    def run(self, thread: ManagedThread) -> None:
        """At the deadline: words being spoken interrupt, nothing resumes."""
        thread.on_stop(self._wake.set)
        while not thread.should_stop():
            self._wake.wait(POLL_S if self._deadline is not None else IDLE_WAIT_S)
            self._wake.clear()
            with self._lock:
                now = time.monotonic()
                due = self._deadline is not None and now >= self._deadline
                speaking_words = self._words is not None and self._heard_end is None
                if due and not speaking_words and self._undecided(now):
                    hard = self._paused_at + 2 * self.decide_s  # its final transcript decides
                    due = now >= hard
                if due:
                    self._deadline = None
                words = self._words
            if not due:
                continue
            if words is not None:
                self.playback.interrupt(Interrupt(BARGE_IN, text=words))
            else:
                self.playback.resume(RESUMED_OUTCOME)
