"""Deciding a barge-in (pipeline.barge): speech over the reply pauses it, and what was said
decides -- a question interrupts (``playback`` cut once), a backchannel or nothing resumes,
"stop" is left to the pipeline's stop path. A real-time sink without a device (PlayingSink);
the live tests on the virtual devices (tests/audio/test_live_duplex.py) run it end to end."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest
from support.stages import PlayingSink

from voicecli.audio.playback import PlaybackLine
from voicecli.core.events import Reply, Transcript
from voicecli.core.lifecycle import ManagedThread
from voicecli.core.messages import BARGE_IN, Interrupt, UserTurn
from voicecli.pipeline.barge import BargeDecider, is_backchannel, is_echo_of, words_of
from voicecli.reply.brain import ReplyControl
from voicecli.reply.skills.stop import is_stop

DECIDE_S = 0.4


@contextlib.contextmanager
def paused_reply(decide_s: float = DECIDE_S):
    """A 5 s reply playing (turn 1), paused by a barge-in; yields (decider, line, sink, events)."""
    events: list = []
    sink = PlayingSink()
    line = PlaybackLine(sink, events.append)
    decider = BargeDecider(line, decide_s)
    thread = ManagedThread("barge", decider.run).start()
    control = ReplyControl()
    line.making(control)
    assert line.started(1, control)
    sink.write(np.zeros(5 * sink.rate, dtype=np.int16))
    time.sleep(0.2)
    events.clear()  # playback started
    try:
        decider.barge_in(Interrupt(BARGE_IN, wall=time.monotonic(), speech_ms=320.0))
        assert [e.state for e in events if e.type == "playback"] == ["paused"]
        assert not sink.playing and not control.cancelled, "silent, the reply kept"
        yield decider, line, sink, events
    finally:
        thread.stop()
        assert thread.join(2)


def outcome(events) -> object:
    (barge_in,) = [e for e in events if e.type == "barge_in"]
    return barge_in


def states(events) -> list[str]:
    return [e.state for e in events if e.type == "playback"]


def turn(text: str) -> UserTurn:
    return UserTurn(number=2, text=text)


def test_a_question_interrupts_and_goes_on_to_be_answered():
    with paused_reply() as (decider, line, sink, events):
        assert decider.take(turn("What is seven times six?")) is False
        assert states(events) == ["paused", "cut"]
        decision = outcome(events)
    assert decision.outcome == "interrupted" and decision.text == "What is seven times six?"
    assert decision.speech_ms == 320.0 and decision.stop_ms is not None
    assert decision.stop_ms < 100 and decision.decide_ms < DECIDE_S * 1000


@pytest.mark.parametrize("text", ["Uh-huh.", "Yeah.", "Okay.", "Mm-hm.", "yeah okay"])
def test_a_backchannel_is_ignored_and_playback_resumes(text):
    with paused_reply() as (decider, line, sink, events):
        assert decider.take(turn(text)) is True, "consumed: not answered"
        assert sink.playing and sink.resumes == 1
        assert states(events) == ["paused", "resumed"]
        assert outcome(events).outcome == "ignored"


def test_no_words_within_the_bound_resumes():
    with paused_reply() as (decider, line, sink, events):
        deadline = time.monotonic() + DECIDE_S + 1.0
        while not sink.resumes and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sink.playing, "resumed by itself"
        decision = outcome(events)
    assert decision.outcome == "resumed" and decision.text is None
    assert DECIDE_S * 1000 <= decision.decide_ms < DECIDE_S * 1000 + 500
    assert states(events) == ["paused", "resumed"]


def test_words_still_being_spoken_at_the_bound_interrupt():
    with paused_reply() as (decider, line, sink, events):
        decider.observe(Transcript(t=1.0, turn=2, text="uh", final=False))  # not words
        decider.observe(Transcript(t=1.0, turn=2, text="What is the", final=False))
        time.sleep(DECIDE_S + 0.4)
        assert states(events) == ["paused", "cut"]
        assert outcome(events).outcome == "interrupted"
        assert decider.take(turn("What is the weather?")) is False, "answered, once declared"


def test_stop_stops_it_and_goes_on_to_the_silent_stop_skill():
    with paused_reply() as (decider, line, sink, events):
        assert decider.take(turn("Stop it.")) is False
        assert states(events) == ["paused", "cut"]
        decision = outcome(events)
    assert decision.outcome == "stopped" and decision.text == "Stop it."


def test_nothing_playing_cuts_at_once_as_before():
    events: list = []
    sink = PlayingSink()
    line = PlaybackLine(sink, events.append)
    BargeDecider(line, DECIDE_S).barge_in(Interrupt(BARGE_IN, speech_ms=300.0))
    assert not [e for e in events if e.type == "playback"]
    assert outcome(events).outcome == "interrupted" and outcome(events).decide_ms is None


def test_the_words():
    for text in ("uh-huh", "Mm-hm.", "Yeah, okay.", "right", "I see."):
        assert is_backchannel(text), text
    for text in ("Yeah, what time is it?", "okay nabu", "", "No.", "stop"):
        assert not is_backchannel(text), text
    for text in ("Stop.", "stop it", "Be quiet.", "Cancel.", "cancel that"):
        assert is_stop(text), text
    assert not is_stop("cancel the pasta timer")


def test_an_utterance_still_being_heard_extends_the_wait_to_twice_the_bound():
    from voicecli.core.events import SpeechEnd, SpeechStart

    with paused_reply() as (decider, line, sink, events):
        decider.observe(SpeechStart(t=1.0, turn=2))
        time.sleep(DECIDE_S + 0.2)
        assert states(events) == ["paused"], "waiting for the turn being heard"
        decider.observe(SpeechEnd(t=1.3, turn=2))
        time.sleep(DECIDE_S + 0.3)
        assert states(events) == ["paused", "resumed"], "never longer than twice the bound"
        assert DECIDE_S * 2000 <= outcome(events).decide_ms < DECIDE_S * 2000 + 500


def test_a_turn_over_the_paused_reply_waits_longer():
    """Words spoken over the reply reach the listener with the canceller's gaps in them, all
    at once at the pause: while deciding, no turn is declared for TURN_WAIT_S after the pause,
    and then only after TURN_WAIT_S of silence (the listener's wait floor)."""
    from voicecli.pipeline.barge import TURN_WAIT_S

    with paused_reply(decide_s=2.0) as (decider, _line, _sink, _events):
        assert decider.turn_wait_floor() == float("inf")
        time.sleep(TURN_WAIT_S + 0.05)
        assert decider.turn_wait_floor() == TURN_WAIT_S
        decider.take(turn("What is twelve times seven?"))
        assert decider.turn_wait_floor() == 0.0  # decided: the ordinary waits again


def test_a_final_transcript_waits_for_its_turn():
    """The listener emits a turn's final transcript just before it delivers the turn: the
    decider must not resume in between. It did under load, past the bound: the turn then
    went on to be answered as a new one while the reply played on."""
    from voicecli.core.events import SpeechEnd, SpeechStart

    with paused_reply(decide_s=1.0) as (decider, _line, _sink, events):
        decider.observe(SpeechStart(t=1.0, turn=2))
        time.sleep(1.1)  # past the bound: the utterance being heard holds the decision
        decider.observe(SpeechEnd(t=2.1, turn=2))
        decider.observe(Transcript(t=2.2, turn=2, text="What time is it?", final=True))
        time.sleep(0.4)  # the listener's thread, not yet delivering the turn
        assert states(events) == ["paused"], "waiting for the turn"
        assert decider.take(turn("What time is it?")) is False
        assert states(events) == ["paused", "cut"]
        assert outcome(events).outcome == "interrupted"


def spoken(decider, text: str) -> None:
    """The reply being paused (turn 1) said ``text``: its sentences, as the responder emits."""
    for sentence in text.split(". "):
        decider.observe(Reply(t=0.1, turn=1, text=sentence, final=False))


def test_a_few_words_of_the_reply_itself_resume_it():
    """Its own echo leaking through the canceller under load ("Six." over "It's 12:56 PM."
    paused and then cut a short reply, tests/audio/test_live_duplex.py): not the user."""
    with paused_reply() as (decider, _line, sink, events):
        spoken(decider, "It's 12:56 PM.")
        assert decider.take(turn("Six.")) is True, "consumed: not answered"
        assert sink.playing and states(events) == ["paused", "resumed"]
        decision = outcome(events)
    assert decision.outcome == "resumed" and decision.text == "Six."


def test_a_question_sharing_words_with_the_reply_interrupts():
    with paused_reply() as (decider, _line, _sink, events):
        spoken(decider, "I can tell the time and the date. Say help to hear more.")
        assert decider.take(turn("What time is it?")) is False
        assert outcome(events).outcome == "interrupted"


def test_partial_words_of_the_reply_at_the_bound_resume():
    with paused_reply() as (decider, _line, _sink, events):
        spoken(decider, "It's 12:56 PM.")
        decider.observe(Transcript(t=1.0, turn=2, text="fifty six", final=False))
        time.sleep(DECIDE_S + 0.4)
        assert states(events) == ["paused", "resumed"]


def test_echo_words():
    reply = set(words_of("Sorry, I can't help with that yet. It's 12:56 PM."))
    for text in ("Six.", "twelve", "Sorry.", "I can't", "PM"):
        assert is_echo_of(text, reply), text
    for text in ("", "...", "Sorry, I can't help", "What time is it?", "seven", "Stop."):
        assert not is_echo_of(text, reply), text
