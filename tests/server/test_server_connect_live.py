"""``voicecli connect`` with the microphone and the speaker, on the virtual PulseAudio devices,
against a real server on 127.0.0.1.

A question spoken into the virtual microphone must reach the server and its reply must be heard
on the virtual speaker (recorded from ``vspeaker.monitor`` and transcribed) -- with the speaker
looped back into the microphone, so the reply's echo would be answered if the client's echo
canceller and guard let it through (barge-in over a reply: test_connect_barge_in.py). Ctrl-C
ends the client with 130 and closes its connection; no PortAudio or no device gives chat's
message and exit code 4.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from support.cli import voicecli
from support.connect_client import Client
from support.pulse import digits, speaker_recording

from voicecli.audio.file import load_audio, write_wav
from voicecli.cli.main import app
from voicecli.core.audio_format import TTS_RATE
from voicecli.core.errors import ExitStatus
from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.synth import compose

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("connect-live") / "two_plus_two.wav"
    write_wav(path, compose(0.3, "What is two plus two?", 0.5), 16000)
    return path


def audible_s(audio: np.ndarray, rate: int) -> float:
    """Seconds from the first to the last sample above 5 % of the peak."""
    loud = np.flatnonzero(np.abs(audio) > 0.05 * np.abs(audio).max())
    return (loud[-1] - loud[0]) / rate if loud.size else 0.0


def heard_whole(engines, recording, reply: str) -> tuple[list[str], float, float]:
    """What the speaker played (transcribed), how long it sounded, and how long the server's
    TTS (the same engines) makes ``reply``: the client must play all of it."""
    audio = load_audio(recording)
    words = digits(engines.stt.transcribe_full(audio, vad_filter=True).text).split()
    return words, audible_s(audio, 16000), audible_s(engines.tts.synthesize(reply), TTS_RATE)


def live_sessions(server, expected: int, timeout: float = 3.0) -> int:
    deadline = time.monotonic() + timeout
    while (live := server.stats()["live"]) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return live


@pytest.mark.slow
def test_a_spoken_question_is_answered_on_the_speaker_and_its_echo_is_not(
    engines, server, pulse, question_wav, tmp_path
):
    recording = tmp_path / "speaker.wav"
    client = None
    try:
        with speaker_recording(pulse, recording):  # the reply's echo reaches the microphone
            client = Client(server.url, pulse.env)
            assert client.wait_for("ready", 60), "the client did not connect"
            pulse.play(question_wav).wait(10)
            assert client.wait_for("playback", 20, state="stopped"), "no reply was sent"
            time.sleep(4.0)  # the reply plays (~1.5 s); its echo, were it not gated, a turn
            code, elapsed = client.interrupt()
    finally:
        stderr = client.close() if client is not None else ""
    print(f"\nSIGINT to exit: {elapsed:.2f} s")
    assert code == ExitStatus.SIGINT == 130, stderr
    assert elapsed < 5.0
    assert "Traceback" not in stderr
    assert live_sessions(server, 0) == 0, "the connection was closed"
    transcripts = client.of("transcript", final=True)
    assert [digits(t["text"]) for t in transcripts] == ["what is 2 plus 2"]
    assert [r["text"] for r in client.of("reply", final=True)] == ["2 plus 2 is 4."]
    assert not client.of("audio_stop"), "the reply's echo did not barge in"
    words, played_s, reply_s = heard_whole(engines, recording, "2 plus 2 is 4.")
    assert "plus" in words, words  # tiny.en hears the TTS's "four" as "for(ward)" at times
    assert abs(played_s - reply_s) < 0.15, (played_s, reply_s)


@pytest.mark.slow
def test_typed_turn_is_heard_on_the_speaker_before_the_client_leaves(
    engines, server, pulse, tmp_path
):
    """In its own process, as a user runs it: PortAudio state left by earlier in-process
    tests (devices listed for another daemon, streams of other tests) stays out of it."""
    recording = tmp_path / "speaker.wav"
    args = ["connect", server.url, "--text", "what is two plus two", "--output", "speaker"]
    with speaker_recording(pulse, recording):  # stopped at once: what was not played is missing
        result = voicecli(*args, env=pulse.env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "assistant: 2 plus 2 is 4." in result.stdout
    words, played_s, reply_s = heard_whole(engines, recording, "2 plus 2 is 4.")
    assert "plus" in words, words
    assert abs(played_s - reply_s) < 0.15, (played_s, reply_s)  # played to its end


@pytest.mark.slow
def test_ctrl_c_in_process_closes_the_connection_and_leaves_no_thread(cli, server, pulse):
    """The same Ctrl-C in-process: exit 130 within a second, the server sees the connection
    end, and every thread the client started has ended (the autouse fixture checks)."""
    sent: list[float] = []

    def drive(thread: ManagedThread) -> None:
        deadline = time.monotonic() + 20
        while server.stats()["live"] < 1 and time.monotonic() < deadline:
            if thread.wait(0.05):
                return
        if not thread.wait(0.5):  # the microphone streams for a moment
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)

    driver = ManagedThread("driver", drive).start()
    try:
        result = cli.invoke(app, ["connect", server.url, "--input", "mic"])
        ended = time.monotonic()
    finally:
        driver.stop_and_join()
    assert result.exit_code == ExitStatus.SIGINT, result.output
    assert sent, "the client never connected"
    assert "listening on mic:" in result.stderr
    print(f"\nin-process Ctrl-C to return: {ended - sent[0]:.3f} s")
    assert ended - sent[0] < 1.0
    assert live_sessions(server, 0) == 0
    assert server.stats()["kept"] == 1  # detached, kept for resume


@pytest.mark.parametrize(
    "args", [["--input", "mic"], ["--text", "hi", "--output", "speaker"]], ids=["mic", "speaker"]
)
def test_no_portaudio_is_exit_4_with_chats_message(args):
    done = voicecli("connect", "ws://127.0.0.1:9", *args, no_portaudio=True)
    assert done.returncode == ExitStatus.NO_AUDIO_DEVICE == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "PortAudio library not found" in lines[0]
    assert "apt-get install libportaudio2, or use --input FILE" in lines[0]


def test_no_microphone_is_exit_4_before_connecting(tmp_path):
    nowhere = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = voicecli("connect", "ws://127.0.0.1:9", "--input", "mic", env=nowhere)
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("voicecli: error: no microphone found")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--input", "mic", "--text", "hi"], "--text cannot follow --input mic"),
        (["--text", "hi", "--input-device", "1"], "--input-device needs --input mic"),
        (["--text", "hi", "--output-device", "1"], "--output-device needs --output speaker"),
    ],
)
def test_live_options_that_cannot_work_together_are_refused(cli, args, fragment):
    result = cli.invoke(app, ["connect", "ws://127.0.0.1:9", *args])
    assert result.exit_code == ExitStatus.USAGE
    assert fragment in result.stderr
