"""Barge-in over ``voicecli connect --input mic --output speaker``, on the virtual PulseAudio
devices against a real server on 127.0.0.1.

``module-loopback`` sends everything the virtual speaker plays back into the microphone. The
client runs the WebRTC echo canceller with its own playback as the reverse stream: a long reply
must play out without its echo interrupting it (or being transcribed), and a question spoken
over the next reply must make the client cut its speaker and send ``interrupt`` -- the server
then cuts the reply and answers the question. Without the module: a notice, and the gate.
"""

from __future__ import annotations

import sys
import time

import pytest
from support.brains import StoryBrain
from support.connect_client import Client
from support.pulse import digits

from voicecli.audio.file import write_wav
from voicecli.core.audio_format import TTS_RATE
from voicecli.reply.synth import compose

SENTENCES = 4  # "This is sentence N of the story.": a reply of about 9 s
SPOKEN_AFTER_S = 3.5  # into reply 2: the canceller has settled on it (500 ms at 20 dB)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    folder = tmp_path_factory.mktemp("connect-barge-in")
    story, question = folder / "story.wav", folder / "question.wav"
    write_wav(story, compose(0.3, "Tell me a story.", 0.5), 16000)
    write_wav(question, compose(0.2, "What is two plus two?", 0.8), 16000)
    return story, question


def _story_playing(client: Client, pulse, story, turn: int) -> dict:
    pulse.play(story).wait(10)
    started = client.wait_for("playback", 30, turn=turn, state="started")
    assert started is not None, f"story {turn} was not answered: {client.messages[-5:]}"
    return started


@pytest.mark.live
@pytest.mark.slow
def test_speech_over_the_reply_interrupts_it_and_its_echo_does_not(
    engines, start_server, pulse, spoken
):
    story, question = spoken
    brain = StoryBrain(SENTENCES, 0.05)
    text = "".join(brain.sentence.format(n) for n in range(1, SENTENCES + 1))
    reply_s = len(engines.tts.synthesize(text)) / TTS_RATE  # the server's voice: the same TTS
    server = start_server(brain=brain)
    echo = pulse.loopback()
    client = Client(server.url, pulse.env)
    try:
        assert client.wait_for("ready", 60), "the client did not connect"
        # 1: the reply plays out; only its echo reaches the microphone
        started = _story_playing(client, pulse, story, 1)
        assert client.wait_for("playback", 30, turn=1, state="stopped"), "reply 1 was sent"
        time.sleep(max(0.0, started["_at"] + reply_s + 1.5 - time.monotonic()))  # played out
        assert not client.of("barge_in") and not client.of("audio_stop"), "its echo cut it"
        # 2: a question over the next reply, once the canceller had time to settle on it
        started = _story_playing(client, pulse, story, 2)
        time.sleep(max(0.0, started["_at"] + SPOKEN_AFTER_S - time.monotonic()))
        pulse.play(question).wait(10)
        answered = client.wait_for("reply", 30, turn=3, final=True)
    finally:
        stderr = client.close()
        pulse.unload(echo)
    assert "Traceback" not in stderr, stderr
    heard = [digits(t["text"]) for t in client.of("transcript", final=True)]
    assert heard[:2] == ["tell me a story"] * 2, heard
    assert not any("sentence" in text for text in heard), heard  # the reply's echo
    echo_states = [(m["state"], m["erle_db"]) for m in client.of("echo")]
    print(f"\nclient echo: {echo_states[-4:]}; barge-in: {client.of('barge_in')}")
    assert "converged" in dict(echo_states), f"the client's canceller converged: {echo_states}"
    barge_ins = client.of("barge_in")
    after = [m["type"] for m in client.messages if m["_at"] >= started["_at"]]
    assert len(barge_ins) == 1, f"the question, and only it, cut the speaker: {after}"
    assert client.of("playback", turn=2, state="cut"), "the server cut reply 2"
    assert client.of("playback", turn=1, state="stopped")
    assert not client.of("playback", turn=1, state="cut")
    assert answered is not None, f"the question was not answered: {heard}"
    print(f"question heard as {heard[2]!r}, answered {answered['text']!r}")
    stop_ms = barge_ins[0]["stop_ms"]
    assert stop_ms is None or stop_ms < 500, stop_ms  # target 100 ms, 5x margin


@pytest.mark.live
def test_without_the_module_the_client_gates_with_a_notice(pulse, monkeypatch, capsys):
    from voicecli.cli.commands.connect import Devices

    monkeypatch.setitem(sys.modules, "livekit.rtc", None)  # the import fails as if missing
    devices = Devices(True, "speaker", None, None, 16000)
    try:
        assert not devices.barge_in
        assert devices.audio.canceller is None and not devices.audio.guard.barge_in
    finally:
        devices.close()
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "pip install 'livekit>=1.2,<2'" in notice[0], notice
    assert notice[0].endswith("the microphone is muted while replies play")


def test_no_barge_in_needs_the_microphone_and_the_speaker(cli):
    from voicecli.cli.main import app
    from voicecli.core.errors import ExitStatus

    result = cli.invoke(app, ["connect", "ws://127.0.0.1:9", "--text", "hi", "--no-barge-in"])
    assert result.exit_code == ExitStatus.USAGE
    assert "--no-barge-in needs --input mic and --output speaker" in result.stderr
