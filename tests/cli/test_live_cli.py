"""``voicecli chat`` and ``voicecli devices`` as a user runs them, on the virtual devices.

No PortAudio (a subprocess in which loading the library fails) and no input device must give
one clear message and exit code 4; file input must work without PortAudio; Ctrl-C during
speech must end the program promptly with exit code 130 and no thread left.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time

import pytest
from support.cli import command, voicecli
from support.pulse import LiveRun

from voicecli.audio.file import write_wav
from voicecli.cli.chat_ui import run_chat
from voicecli.core.errors import ExitStatus
from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.synth import compose

# Runs the CLI with PortAudio made unfindable: sounddevice's import then raises OSError.
pytestmark = pytest.mark.live


@pytest.fixture(scope="session")
def story(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-speech") / "story.wav"
    write_wav(path, compose(0.3, "Tell me a story.", 0.5), 16000)
    return path


@pytest.mark.parametrize("command", [["chat", "--plain"], ["devices"]])
def test_no_portaudio_says_how_to_fix_it(command):
    done = voicecli(*command, no_portaudio=True)
    assert done.returncode == ExitStatus.NO_AUDIO_DEVICE == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "PortAudio library not found" in lines[0]
    assert "apt-get install libportaudio2, or use --input FILE" in lines[0]
    assert "Traceback" not in done.stderr


def test_file_input_needs_no_portaudio():
    done = voicecli("chat", "--demo", "--plain", "--fast", no_portaudio=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "assistant: 12 times 8 is 96." in done.stdout
    assert "you: What did I just ask?" in done.stdout


def test_no_input_device_is_exit_4(tmp_path):
    nowhere = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = voicecli("chat", "--plain", env=nowhere)
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("voicecli: error: no microphone found")
    assert "use --input FILE" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_devices_lists_the_virtual_devices(pulse):
    done = voicecli("devices", env=pulse.env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("<>") and "default" in line for line in lines), done.stdout
    assert any("pulse" in line for line in lines)


def interrupt_during_speech(pulse, story, signum=signal.SIGINT) -> tuple[int, float]:
    """Start ``voicecli chat --plain``, ask for a long reply, send ``signum`` (Ctrl-C) while it
    is spoken; returns the exit code and the seconds from the signal to the process's end."""
    proc = subprocess.Popen(
        command("chat", "--plain"),
        env=pulse.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        time.sleep(0.5)
        answered = threading.Event()

        def watch() -> None:
            for line in proc.stdout:
                if "assistant: " in line:
                    answered.set()

        reader = threading.Thread(target=watch)
        reader.start()
        deadline = time.monotonic() + 90
        while not answered.is_set() and time.monotonic() < deadline:
            pulse.play(story).wait(10)  # until the models have loaded and it is heard
            answered.wait(6)
        assert answered.is_set(), "the assistant never answered"
        time.sleep(1.0)  # well into the spoken reply
        sent = time.monotonic()
        proc.send_signal(signum)
        code = proc.wait(10)
        elapsed = time.monotonic() - sent
        reader.join(5)
        return code, elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


@pytest.mark.slow
def test_ctrl_c_during_speech_exits_130_promptly(pulse, story):
    results = [interrupt_during_speech(pulse, story)]
    assert [code for code, _ in results] == [130]
    times = [elapsed for _, elapsed in results]
    print(f"\nSIGINT to exit (s): {[round(t, 2) for t in times]}")
    print(f"median {statistics.median(times):.2f} s")
    assert max(times) < 5.0


@pytest.mark.slow
def test_sigterm_during_speech_exits_143(pulse, story):
    code, elapsed = interrupt_during_speech(pulse, story, signal.SIGTERM)
    assert code == 143
    assert elapsed < 5.0


@pytest.mark.slow
def test_sigint_in_process_leaves_no_thread(engines, pulse, story):
    """The same shutdown in-process: run_chat returns SIGINT within a second of the signal and
    every thread ends (the autouse fixture checks that none is left)."""
    run = LiveRun(engines, pulse)  # run_chat starts the pipeline itself
    sent: list[float] = []

    def drive(thread: ManagedThread) -> None:
        if thread.wait(1.0):
            return
        run.say(story)
        while not thread.should_stop():
            if run.wait_for(lambda e: e.type == "playback" and e.state == "started", 0.1):
                thread.wait(0.5)  # well into the spoken reply
                sent.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)
                return

    driver = ManagedThread("driver", drive).start()
    try:
        status = run_chat(run.pipeline, run.audio, json_=False, plain=True)
        ended = time.monotonic()
    finally:
        driver.stop_and_join()
    assert status is ExitStatus.SIGINT
    assert sent, "the reply was never spoken"
    print(f"\nin-process shutdown after SIGINT: {ended - sent[0]:.3f} s")
    assert ended - sent[0] < 1.0
