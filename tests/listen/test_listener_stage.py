"""The listener alone (the fast stage layer): scripted frames, or scripted speech
probabilities, in; the typed messages it delivers out."""

from __future__ import annotations

import time

import numpy as np
import pytest
from support.stages import ListenerStage, frames_of

from voicecli.core.config import Config
from voicecli.core.messages import EndOfInput, EndOfUtterance, HeardWord, ShortWord, UserTurn
from voicecli.listen.turn import turn_wait_s
from voicecli.reply.synth import compose

QUESTION = "What is twelve times eight?"


def test_speech_becomes_one_user_turn_then_end_of_input(engines):
    stage = ListenerStage(engines)
    delivered = stage.run([*frames_of(compose(0.5, QUESTION, 1.5)), EndOfInput()])
    assert [type(m) for m in delivered] == [UserTurn, EndOfInput]
    turn = delivered[0]
    assert turn.number == 1 and not turn.typed and "times" in turn.text.lower()
    assert turn.t_eos < turn.t_turn and turn.stt_compute_ms > 0
    starts, ends = stage.of("speech_start"), stage.of("speech_end")
    assert starts and len(starts) == len(ends)  # pauses inside a turn are segments of it
    assert {e.turn for e in starts + ends} == {1}
    assert [t.text for t in stage.of("transcript")] == [turn.text]


def test_speech_the_vad_calls_silence_is_never_transcribed(engines):
    audio = compose(0.5, QUESTION, 1.5)
    stage = ListenerStage(engines, probabilities=[0.0] * (len(audio) // 512 + 1))
    assert stage.run([*frames_of(audio), EndOfInput()]) == [EndOfInput()]
    assert not stage.events


def test_scripted_speech_probabilities_set_the_turn_timing(engines):
    """The VAD pinned to a script over real speech: speech starts at the run's first frame,
    ends at the first frame below the threshold, and the turn is declared once the wait its
    transcript's ending calls for has passed (on the sample clock: exactly)."""
    audio = compose(0.5, QUESTION, 1.5)
    first, last = 16, (len(audio) - 24_000) // 512  # the words, give or take a frame
    probabilities = [0.9 if first <= i <= last else 0.05 for i in range(len(audio) // 512 + 1)]
    stage = ListenerStage(engines, probabilities=probabilities)
    delivered = stage.run([*frames_of(audio), EndOfInput()])
    assert [type(m) for m in delivered] == [UserTurn, EndOfInput]
    turn = delivered[0]
    assert [e.type for e in stage.events] == ["speech_start", "speech_end", "transcript"]
    assert stage.of("speech_start")[0].t == pytest.approx(first * 512 / 16000)
    assert turn.t_eos == stage.of("speech_end")[0].t == pytest.approx((last + 1) * 512 / 16000)
    wait = turn_wait_s(turn.text, Config().turn)
    assert wait <= turn.t_turn - turn.t_eos < wait + 512 / 16000


def test_a_wait_floor_holds_the_turn_until_it_drops(engines):
    """The pipeline raises the floor while a barge-in is undecided (pipeline.barge): however
    sure the turn rules are (1.5 s of silence after a question), no turn is declared under it,
    and one is as soon as it drops."""
    stage = ListenerStage(engines, fast=False)
    lifted = time.monotonic() + 2.0
    stage.listener.wait_floor = lambda: 0.0 if time.monotonic() >= lifted else float("inf")
    delivered = stage.run(frames_of(compose(0.5, QUESTION, 1.5)), 20.0, until=bool)
    assert [type(m) for m in delivered] == [UserTurn]
    assert "times" in delivered[0].text.lower()
    assert lifted <= delivered[0].wall_turn < lifted + 1.0


def test_end_of_utterance_declares_the_open_turn_and_listening_goes_on(engines):
    """A client's ``end`` right after the words (no silence yet): the turn comes first, then
    the marker; a second question after it is a second turn."""
    first = frames_of(compose(0.3, QUESTION, 0.1))
    second = frames_of(compose(0.3, "What is two plus two?", 1.5))
    delivered = ListenerStage(engines).run([*first, EndOfUtterance(), *second, EndOfInput()])
    assert [type(m) for m in delivered] == [UserTurn, EndOfUtterance, UserTurn, EndOfInput]
    assert [m.number for m in delivered if isinstance(m, UserTurn)] == [1, 2]
    assert "plus" in delivered[2].text.lower()


def test_a_short_word_comes_back_as_what_it_said(engines):
    word = compose(0.1, "Stop.", 0.1)
    stage = ListenerStage(engines)
    delivered = stage.run([ShortWord(word, wall=1.5)], 30.0, until=lambda got: bool(got))
    heard = [m for m in delivered if isinstance(m, HeardWord)]
    assert len(heard) == 1 and len(delivered) == 1
    assert "stop" in heard[0].text.lower()
    assert heard[0].wall == 1.5
    assert heard[0].speech_ms == round(len(word) / 16000 * 1000, 1)


def test_frames_carry_their_rate():
    frames = frames_of(np.zeros(1000, np.float32))
    assert len(frames) == 2 and all(f.rate == 16000 and len(f.samples) == 512 for f in frames)
