"""The wake word said over a reply stops it, on the echo-cancelled microphone: the real WebRTC
canceller, the real wake-word model and the one interrupt function, offline (a simulated room:
the reply's echo, delayed and attenuated, plus the user's voice)."""

from __future__ import annotations

import numpy as np
import pytest
from support.echo import reply_audio

from voicecli.audio.echo_canceller import EchoCanceller, MonitoredCanceller
from voicecli.audio.playback import PlaybackLine
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.audio.sink import NullSink
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.config import WakeConfig
from voicecli.core.events import Playback, WakeWordHeard
from voicecli.reply.brain import ReplyControl
from voicecli.reply.synth import speak

pytest.importorskip("pymicro_wakeword")

from voicecli.pipeline.wake_interrupt import WakeInterrupt  # noqa: E402

USER_AT_S = 2.5  # the user speaks this far into the reply


@pytest.fixture(scope="module")
def reply() -> np.ndarray:
    return reply_audio()


def _room(reply: np.ndarray, user: np.ndarray | None) -> np.ndarray:
    """What the microphone hears: the reply 40 ms late at half its level, and the user."""
    delay = 40 * SAMPLE_RATE // 1000
    mic = np.concatenate((np.zeros(delay, np.float32), reply * 0.5))[: len(reply)]
    if user is not None:
        at = int(USER_AT_S * SAMPLE_RATE)
        mic[at : at + len(user)] += user
    return mic.astype(np.float32)


def _play(reply: np.ndarray, mic: np.ndarray):
    """Play ``reply`` while the microphone hears ``mic``; the line's events and its reply."""
    events = []
    monitor = PlaybackMonitor()
    canceller = MonitoredCanceller(EchoCanceller(), monitor, lambda _event: None)
    line = PlaybackLine(NullSink(), events.append)
    control = ReplyControl()
    line.making(control)
    assert line.started(1, control)
    tap = WakeInterrupt(WakeConfig(word="okay_nabu"), monitor, line.interrupt, events.append)
    monitor.reply_started()
    for start in range(0, len(reply) - FRAME + 1, FRAME):
        monitor.append(reply[start : start + FRAME], audible=True)
        cleaned = canceller.process(mic[start : start + FRAME], monitor.count)
        tap(cleaned, wall=start / SAMPLE_RATE)
    return events, control, tap


def test_the_wake_word_over_a_reply_stops_it_through_the_interrupt_line(reply):
    user = speak("okay nabu", "gmw/en-us", 150)
    events, control, _ = _play(reply, _room(reply, user))
    heard = [e for e in events if isinstance(e, WakeWordHeard)]
    assert len(heard) == 1 and heard[0].word == "okay_nabu"
    assert control.cancelled  # the reply being made was cancelled ...
    assert [e.state for e in events if isinstance(e, Playback)] == ["started", "cut"]  # ... once


def test_the_assistants_own_voice_does_not_stop_it(reply):
    events, control, _ = _play(reply, _room(reply, None))
    assert not [e for e in events if isinstance(e, WakeWordHeard)]
    assert not control.cancelled


def test_nothing_is_fed_while_the_speaker_is_idle():
    events = []
    tap = WakeInterrupt(WakeConfig(word="okay_nabu"), PlaybackMonitor(), events.append, print)
    for _ in range(10):
        tap(np.zeros(FRAME, np.float32), wall=0.0)
    assert tap.detector.fed == 0 and not events
