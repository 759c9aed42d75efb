"""Full duplex by default on the virtual devices: ``module-loopback`` sends every reply back
into the microphone 6 dB louder than the user's voice, and barge-in is left to its default
(on, because the WebRTC canceller loads). The assistant must never hear itself; speech over
a reply pauses it, and what was said decides: a question is answered, "stop" stops it,
"uh-huh" and a cough-like burst let it play on. Without the module: the gate, with a notice.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from support.pulse import RATE, LiveRun, digits, own_voice_pauses, write_clips

from voicecli.pipeline.barge import is_backchannel, is_echo_of, words_of
from voicecli.reply.skills.stop import is_stop
from voicecli.reply.synth import compose

pytestmark = [pytest.mark.slow, pytest.mark.live]

USER = 0.5  # the user's voice, 6 dB below the loopback's echo of the reply
SHORT_REPLIES = 10


def cough(seconds: float = 0.45) -> np.ndarray:
    """A cough-like burst: noise through a low resonance, a sharp attack and a fast decay."""
    rng = np.random.default_rng(11)
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    noise = rng.normal(0, 1, n)
    buzz = np.sin(2 * np.pi * 140 * t) * (1 + 0.5 * np.sin(2 * np.pi * 280 * t))
    envelope = np.minimum(1, t / 0.02) * np.exp(-t / 0.12)
    burst = (0.6 * noise + buzz) * envelope
    return (0.5 * burst / np.max(np.abs(burst))).astype(np.float32)


def laugh(bursts: int = 4) -> np.ndarray:
    """A laugh-like "ha ha ha ha": short voiced bursts (a 220 Hz pulse train through three
    vowel formants), which the VAD takes for speech and tiny.en for no words."""
    t = np.arange(round(0.03 * RATE)) / RATE
    ha = np.zeros(round(0.12 * RATE))
    ha[:: RATE // 220] = 1.0
    for f, bw in ((700, 110), (1220, 120), (2600, 160)):  # in cascade, as a vocal tract
        ha = np.convolve(ha, np.exp(-np.pi * bw * t) * np.sin(2 * np.pi * f * t))[: len(ha)]
    ramp = np.arange(len(ha)) / RATE
    ha *= np.minimum(1, ramp / 0.03) * np.minimum(1, (ramp[-1] - ramp) / 0.1)
    gap = np.zeros(round(0.075 * RATE))
    burst = np.concatenate([np.concatenate((ha, gap)) for _ in range(bursts)])
    return (0.5 * burst / np.max(np.abs(burst))).astype(np.float32)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("duplex")
    audio = {
        "time": compose(0.3, "What time is it?", 0.5),
        "story": compose(0.3, "Tell me a story.", 0.5),
        "seven": compose(0.2, "What is seven times six?", 0.5),
        "stop": compose(0.2, "Stop it.", 0.5),
        "uh-huh": compose(0.2, "Uh-huh.", 0.5),
        "cough": np.concatenate((np.zeros(3200, np.float32), cough(), np.zeros(8000, np.float32))),
        "laugh": np.concatenate((np.zeros(3200, np.float32), laugh(), np.zeros(8000, np.float32))),
    }
    return write_clips(folder, audio, gain=USER)


def long_reply(run: LiveRun, clips) -> None:
    """Ask for the long reply (about 9 s) and wait until barge-in is armed on it (the canceller
    settled on what plays)."""
    run.say(clips["story"]).wait(10)
    started = run.wait_for(lambda e: e.type == "playback" and e.state == "started", 20)
    assert started is not None, "the assistant began to answer"
    run.settle(2.0)
    assert run.audio.canceller.settled(), f"armed: {run.of_type('echo')[-2:]}"


def log(run: LiveRun) -> list[str]:
    """What happened, for an assertion's message."""
    kinds = ("playback", "barge_in", "transcript", "speech_start", "warning")
    lines = [f"{e.type} {e.__dict__}" for e in run.events if e.type in kinds]
    print("\n".join(lines))
    return lines


def ended(run: LiveRun, turn: int, timeout: float = 30):
    return run.wait_for(
        lambda e: e.type == "playback" and e.turn == turn and e.state in ("stopped", "cut"),
        timeout,
    )


def test_short_replies_are_never_heard_as_the_user(engines, pulse, echo_path, clips):
    with LiveRun(engines, pulse, barge_in=None) as run:
        assert run.audio.canceller is not None and run.audio.guard.barge_in, "on by default"
        for turn in range(1, SHORT_REPLIES + 1):
            run.say(clips["time"]).wait(10)
            end = ended(run, turn + len(run.of_type("barge_in")))  # an echo turn has a number
            assert end is not None and end.state == "stopped", log(run)
            run.settle(0.8)  # the echo tail
    barge_ins = own_voice_pauses(run)  # none on a quiet machine; under load, one played on
    turns = [digits(t.text) for t in run.of_type("transcript", final=True)]
    assert len(turns) == SHORT_REPLIES + len(barge_ins), turns
    assert not [t for t in turns if "pm" in t or "am" in t.split()], "a reply transcribed"


def test_a_question_over_the_reply_stops_it_and_is_answered(engines, pulse, echo_path, clips):
    with LiveRun(engines, pulse, barge_in=None) as run:
        long_reply(run, clips)
        run.say(clips["seven"]).wait(10)
        # detected in 18-19 of 20 single tries (benchmarks/DUPLEX.md, eighth run): asked again
        # if missed, as a person would; the test needs the path, the bench reports the rate
        if run.wait_for(lambda e: e.type == "playback" and e.state == "paused", 1.5) is None:
            print("question: not detected at the first try, asked again")
            run.say(clips["seven"]).wait(10)
        assert ended(run, 1) is not None
        answer = run.wait_for(lambda e: e.type == "reply" and e.final and e.turn == 2, 15)
    barge_ins = run.of_type("barge_in")
    assert len(barge_ins) == 1, log(run)
    barge_in = barge_ins[0]
    print(f"question: {barge_in}, answered {answer and answer.text!r}")
    assert barge_in.outcome == "interrupted"
    assert [e.state for e in run.of_type("playback", turn=1)] == ["started", "paused", "cut"]
    assert answer is not None and answer.text, "the question was answered"
    assert barge_in.stop_ms < 500, "paused promptly (target 100 ms)"


def not_the_user(run: LiveRun, text: str) -> bool:
    """No words, a backchannel, or a few words of the reply (turn 1) itself: its echo."""
    reply = {w for r in run.of_type("reply", turn=1, final=False) for w in words_of(r.text)}
    no_words = not any(ch.isalnum() for ch in text)
    return no_words or is_backchannel(text) or is_echo_of(text, reply)


def decided_as_heard(run: LiveRun, barge_in) -> None:
    """The decision follows what was heard: "stop" -> stopped, not the user's words ->
    resumed or ignored, anything else -> interrupted."""
    text = barge_in.text or ""
    if is_stop(text):
        assert barge_in.outcome == "stopped", barge_in
    elif not_the_user(run, text):
        assert barge_in.outcome in ("resumed", "ignored"), barge_in
    else:
        assert barge_in.outcome == "interrupted", barge_in


def misheard(barge_in, meant) -> None:
    """tiny.en hears short words spoken over the reply through the canceller's double-talk
    suppression badly (benchmarks/DUPLEX.md): a consistent decision on a misheard word is
    that limit, reported as an expected failure, not a pass."""
    if not meant(barge_in.text or ""):
        pytest.xfail(f"heard {barge_in.text!r} over the reply (double talk)")


@pytest.mark.parametrize("sound", ["uh-huh", "laugh", "cough"])
def test_a_backchannel_or_a_cough_lets_it_play_on(engines, pulse, echo_path, clips, sound):
    with LiveRun(engines, pulse, barge_in=None) as run:
        long_reply(run, clips)
        run.say(clips[sound]).wait(10)
        end = ended(run, 1)
        run.settle(0.5)
    barge_ins = run.of_type("barge_in")
    print(f"{sound}: {[(e.outcome, e.text, e.decide_ms) for e in barge_ins]}")
    assert len(barge_ins) <= 1, log(run)
    states = [e.state for e in run.of_type("playback", turn=1)]
    if barge_ins:
        decided_as_heard(run, barge_ins[0])
        misheard(barge_ins[0], lambda t: not_the_user(run, t))
        assert states == ["started", "paused", "resumed", "stopped"], states
    assert end is not None and end.state == "stopped", log(run)
    assert not [r for r in run.of_type("reply") if r.turn != 1], log(run)  # nothing answered


def test_stop_stops_it_without_an_answer(engines, pulse, echo_path, clips):
    with LiveRun(engines, pulse, barge_in=None) as run:
        long_reply(run, clips)
        run.say(clips["stop"]).wait(10)
        # paused, or cut at once: the guard hears a short "stop" over the reply by itself
        halted = run.wait_for(lambda e: e.type == "playback" and e.state in ("paused", "cut"), 1.5)
        if halted is None:
            run.say(clips["stop"]).wait(10)  # said again, as for the question above
        end = ended(run, 1, 10)
        run.settle(1.5)
    barge_ins = run.of_type("barge_in")
    if not barge_ins:  # a short word over the reply: detection is the open limit (DUPLEX.md)
        pytest.xfail("'Stop it.' over the reply was not detected in two tries")
    assert len(barge_ins) == 1, log(run)
    barge_in = barge_ins[0]
    print(f"stop: {barge_in}")
    decided_as_heard(run, barge_in)
    misheard(barge_in, is_stop)  # e.g. "Okay.": ignored as a backchannel, the reply resumed
    assert end is not None and end.state == "cut", log(run)
    assert [r.text for r in run.of_type("reply", final=True) if r.turn != 1] in ([], [""])
    assert not [p for p in run.of_type("playback") if p.turn != 1], "nothing said after stop"


def test_without_the_module_the_default_is_the_gate(engines, pulse, echo_path, clips, monkeypatch):
    monkeypatch.setitem(sys.modules, "livekit.rtc", None)  # the import fails as if missing
    with LiveRun(engines, pulse, barge_in=None) as run:
        assert run.audio.canceller is None and not run.audio.guard.barge_in
        run.say(clips["time"]).wait(10)
        end = ended(run, 1)
        run.settle(0.8)
    assert end is not None and end.state == "stopped"
    (notice,) = run.of_type("warning", code="echo_canceller_unavailable")
    assert notice.message.startswith("barge-in off") and "pip install" in notice.message
    assert "\n" not in notice.message
    assert run.audio.guard.gated_frames > 20, "gated while it spoke"
    assert len(run.of_type("transcript", final=True)) == 1
