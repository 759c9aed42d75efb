"""Echo guard and barge-in on real devices, with a real echo path.

``module-loopback`` sends everything the virtual speaker plays back into the virtual
microphone, as loud as it was played: the assistant must never transcribe its own voice (with
and without ``--barge-in``); with barge-in, a second question played over the reply stops the
playback and is answered, "stop" stops it, and a 0.15 s click does not.
"""

from __future__ import annotations

import pytest
from support.pulse import LiveRun, click, digits, write_clips

from voicecli.reply.synth import compose

pytestmark = [pytest.mark.slow, pytest.mark.live]

LONG_REPLY_S = 8  # "Tell me a story." gets the long fallback answer (about 9 s of speech)


@pytest.fixture(scope="session")
def speech(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo-speech")
    clips = {
        "story": compose(0.3, "Tell me a story.", 0.5),
        "seven": compose(0.2, "What is seven times six?", 0.5),
        "stop": compose(0.2, "Stop.", 0.5),
        "click": click(),
    }
    return write_clips(folder, clips)


def ask_for_a_long_reply(run: LiveRun, speech) -> None:
    run.say(speech["story"]).wait(10)
    started = run.wait_for(lambda e: e.type == "playback" and e.state == "started", 15)
    assert started is not None, "the assistant began to answer"
    run.settle(1.5)  # well into the reply: its echo is coming back


def user_turns(run: LiveRun) -> list[str]:
    return [digits(t.text) for t in run.of_type("transcript", final=True)]


@pytest.mark.parametrize("barge_in", [False, True], ids=["gated", "barge-in"])
def test_the_assistant_never_hears_itself(engines, pulse, echo_path, speech, barge_in):
    with LiveRun(engines, pulse, barge_in=barge_in) as run:
        ask_for_a_long_reply(run, speech)
        assert run.wait_for(lambda e: e.type == "playback" and e.state != "started", 20)
        run.settle(2.0)  # the echo tail has died away
        guard = run.audio.guard
    assert user_turns(run) == ["tell me a story"]
    assert not run.of_type("barge_in"), "no false barge-in on the assistant's own voice"
    assert run.of_type("playback", state="stopped"), "the reply was played to its end"
    assert guard.triggers == 0
    if barge_in:
        assert guard.delay is not None, "the echo path was found"
    else:
        assert guard.gated_frames > 100, "the microphone was gated while the assistant spoke"


def test_speech_over_the_reply_stops_it_and_is_answered(engines, pulse, echo_path, speech):
    with LiveRun(engines, pulse, barge_in=True) as run:
        ask_for_a_long_reply(run, speech)
        run.say(speech["seven"]).wait(10)
        answer = run.wait_for(lambda e: e.type == "reply" and e.final and e.turn == 2, 20)
    barge_ins = run.of_type("barge_in")
    assert len(barge_ins) == 1
    assert len(run.of_type("playback", turn=1, state="cut")) == 1  # cut, exactly once
    turns = user_turns(run)
    assert len(turns) == 2 and turns[1].endswith("7 times 6"), turns
    assert answer is not None and answer.text, "the new question was answered"
    print(f"heard {turns[1]!r}, answered {answer.text!r}")
    print(f"barge-in: speech {barge_ins[0].speech_ms} ms, stop {barge_ins[0].stop_ms} ms")
    assert barge_ins[0].speech_ms >= 300
    assert barge_ins[0].stop_ms < 500, "playback stopped promptly (target 100 ms)"


def test_saying_stop_stops_the_reply_without_an_answer(engines, pulse, echo_path, speech):
    with LiveRun(engines, pulse, barge_in=True) as run:
        ask_for_a_long_reply(run, speech)
        run.say(speech["stop"]).wait(10)
        assert run.wait_for(lambda e: e.type == "playback" and e.state != "started", 10)
        run.settle(2.0)
    assert len(run.of_type("playback", turn=1, state="cut")) == 1  # cut, exactly once
    barge_in = run.of_type("barge_in")
    assert len(barge_in) == 1
    # "Stop." is about 0.3 s: either it barged in and the stop skill answered nothing, or,
    # shorter, the guard transcribed it and stopped the speech itself.
    assert [r.text for r in run.of_type("reply", final=True) if r.turn != 1] in ([], [""])
    assert not [p for p in run.of_type("playback") if p.turn != 1], "nothing said after stop"
    print(f"stop: {barge_in[0].stop_ms} ms (word {barge_in[0].text!r})")


def test_a_click_does_not_stop_the_reply(engines, pulse, echo_path, speech):
    with LiveRun(engines, pulse, barge_in=True) as run:
        ask_for_a_long_reply(run, speech)
        run.say(speech["click"]).wait(10)
        assert run.wait_for(lambda e: e.type == "playback" and e.state != "started", 20)
        run.settle(1.0)
    assert not run.of_type("barge_in")
    assert run.of_type("playback", turn=1, state="stopped")
    assert user_turns(run) == ["tell me a story"]
