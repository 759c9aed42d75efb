"""The echo guard on made-up signals: exact echo paths, no devices, no real time.

The assistant's voice (espeak-ng) goes through a known echo path (a delay and a short filter)
into the "microphone", with the user's speech, a click or the word "stop" added on top; the
guard must gate or cancel the echo, find the delay, and barge in only for the user.
"""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.echo_guard import EchoGuard
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.core.audio_format import FRAME
from voicecli.reply.synth import compose

PATH_DELAY = 3000  # samples from the speaker's reference to the microphone (187 ms)
AHEAD = 800  # the speaker's callback runs this far ahead of the microphone's
ECHO_FILTER = np.array([0.15, 0.7, 0.25, -0.1], dtype=np.float32)


@pytest.fixture(scope="module")
def voices():
    reply = compose(0.2, "Sorry, I can't help with that yet. Ask me to do arithmetic.", 0.2)
    user = compose("What is seven times six?", voice="gmw/en")
    stop = compose("Stop.", voice="gmw/en")
    return reply, user, stop


def click() -> np.ndarray:
    rng = np.random.default_rng(3)
    n = 2400  # 0.15 s
    return (rng.uniform(-1, 1, n) * np.exp(-np.linspace(0, 4, n)) * 0.6).astype(np.float32)


def run_guard(reply, near=None, at_s=1.5, barge_in=True, tail_s=1.5):
    """Play ``reply`` through the echo path, add ``near`` (the user) at ``at_s``; returns the
    guard, what the listener got, the barge-ins and the short words it was asked about."""
    total = len(reply) + int(tail_s * 16000)
    echo = np.convolve(np.concatenate((np.zeros(PATH_DELAY, np.float32), reply)), ECHO_FILTER)
    mic = np.zeros(total, dtype=np.float32)
    mic[: min(total, len(echo))] += echo[:total]
    if near is not None:
        start = int(at_s * 16000)
        mic[start : start + len(near)] += near[: total - start]
    reference = np.concatenate((reply, np.zeros(total, np.float32)))
    monitor = PlaybackMonitor()
    barge_ins, short_words = [], []
    guard = EchoGuard(
        monitor,
        barge_in=barge_in,
        on_barge_in=lambda ms, wall: barge_ins.append(ms),
        on_short_speech=lambda audio, wall: short_words.append(audio),
    )
    monitor.reply_started()
    heard = []
    for i in range(total // FRAME):
        end = (i + 1) * FRAME + AHEAD
        monitor.append(reference[monitor.count : end], audible=end <= len(reply) + AHEAD)
        monitor.pending = end < len(reply)
        for samples, _wall in guard.process(mic[i * FRAME : (i + 1) * FRAME], i, monitor.count):
            heard.append(samples)
    return guard, np.concatenate(heard), barge_ins, short_words


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def test_gated_by_default_and_open_after_the_echo_tail(voices):
    reply, _, _ = voices
    guard, heard, barge_ins, _ = run_guard(reply, barge_in=False)
    total = len(reply) + int(1.5 * 16000)
    assert len(heard) == total // FRAME * FRAME, "every frame reaches the listener once"
    during = heard[: len(reply)]
    assert rms(during) == 0.0, "the listener hears silence while the assistant speaks"
    assert guard.gated_frames >= len(reply) // FRAME
    assert guard.delay == PATH_DELAY + 1, "the echo path was measured even when gated"
    assert not barge_ins


def test_barge_in_mode_cancels_the_echo_and_does_not_trigger(voices):
    reply, _, _ = voices
    guard, heard, barge_ins, short_words = run_guard(reply)
    assert not barge_ins and not short_words
    # mic index - reference index of the echo's strongest tap (the filter's second)
    assert guard.delay == PATH_DELAY + 1
    strongest = guard.taps[np.argmax(np.abs(guard.taps))]
    assert abs(strongest - 0.7) < 0.02 and abs(guard.taps.sum() - ECHO_FILTER.sum()) < 0.02
    echo_part = heard[int(0.5 * 16000) : len(reply)]
    assert rms(echo_part) == 0.0, "while undecided, frames are held and released as silence"


def test_user_speech_over_the_reply_barges_in_from_its_onset(voices):
    reply, user, _ = voices
    guard, heard, barge_ins, _ = run_guard(reply, near=user, at_s=1.5)
    assert len(barge_ins) == 1 and barge_ins[0] >= 300
    start = int(1.5 * 16000)
    got = heard[start : start + len(user)]
    correlation = np.dot(got, user[: len(got)]) / (np.linalg.norm(got) * np.linalg.norm(user))
    assert correlation > 0.97, "the listener gets the user's words, echo removed, from the onset"


def test_a_click_does_not_barge_in(voices):
    reply, _, _ = voices
    guard, heard, barge_ins, short_words = run_guard(reply, near=click(), at_s=1.5)
    assert not barge_ins and not short_words
    assert rms(heard[: len(reply)]) == 0.0


def test_stop_is_heard_either_way(voices):
    """ "Stop." is about 0.3 s: it barges in, or is handed over as a short word to transcribe."""
    reply, _, stop = voices
    guard, heard, barge_ins, short_words = run_guard(reply, near=stop, at_s=1.5)
    assert len(barge_ins) + len(short_words) == 1
    if short_words:
        assert 0.2 < len(short_words[0]) / 16000 < 1.0
