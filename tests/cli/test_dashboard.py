"""The Rich dashboard: what it shows, what it costs, and the real thing in a terminal.

The end-to-end test runs ``voicecli chat`` in tmux (a real terminal) against the virtual
PulseAudio devices, speaks a question into the virtual microphone, types another with ``t``,
reads the screen, leaves with ``q`` and checks the terminal still works.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
import uuid

import pytest
from rich.console import Console

from voicecli.audio.file import write_wav
from voicecli.cli.controls import Controls
from voicecli.cli.dashboard import Dashboard, meter, sparkline
from voicecli.core.events import (
    Level,
    MicState,
    Playback,
    Reply,
    SpeechStart,
    SystemStats,
    Transcript,
    TurnMetrics,
    WarningEvent,
)
from voicecli.reply.synth import compose


def dashboard(width: int = 100) -> tuple[Dashboard, Console]:
    console = Console(file=io.StringIO(), width=width, height=40, force_terminal=True)
    typed: list[str] = []
    controls = Controls(submit_text=typed.append)
    return Dashboard(controls, console=console, title="mic:test"), console


def screen_text(board: Dashboard, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, height=40, record=True)
    console.print(board.render())
    return console.export_text()


def a_turn(board: Dashboard, number: int, v2v: float) -> None:
    for event in (
        SpeechStart(t=0.0, turn=number),
        Transcript(t=0.5, turn=number, text="What is two", final=False),
        Transcript(t=1.0, turn=number, text="What is two plus two?", final=True),
        Reply(t=1.0, turn=number, text="2 plus 2 is 4.", final=False),
        Playback(t=1.0, turn=number, state="started"),
        Reply(t=1.0, turn=number, text="2 plus 2 is 4.", final=True),
        Playback(t=2.0, turn=number, state="stopped"),
        TurnMetrics(
            t=2.0,
            turn=number,
            eos_to_transcript_ms=212.0,
            turn_wait_ms=377.0,
            reply_ms=1.0,
            tts_first_audio_ms=3.0,
            voice_to_voice_ms=v2v,
            turn_probability=0.93 if number == 3 else None,
            turn_source="both" if number == 3 else "rule",
        ),
    ):
        board.handle(event)


def test_state_line_follows_the_conversation():
    board, _ = dashboard()
    states = []
    for event in (
        SpeechStart(t=0.0, turn=1),
        Transcript(t=0.5, turn=1, text="What is", final=False),
        Transcript(t=1.0, turn=1, text="What is two plus two?", final=True),
        Playback(t=1.0, turn=1, state="started"),
        Playback(t=2.0, turn=1, state="cut"),
        MicState(muted=True),
    ):
        board.handle(event)
        states.append(board.state.state)
    assert states == ["hearing you", "hearing you", "thinking", "speaking", "listening", "muted"]


def test_partial_words_are_replaced_by_the_final_transcript():
    board, _ = dashboard()
    board.handle(Transcript(t=0.5, turn=1, text="What is two", final=False))
    text = screen_text(board)
    assert "you: What is two" in text
    board.handle(Transcript(t=1.0, turn=1, text="What is two plus two?", final=True))
    lines = [line for line in board.state.conversation if line.who == "you"]
    assert [(line.text, line.final) for line in lines] == [("What is two plus two?", True)]


def test_screen_shows_words_latency_system_and_warnings():
    board, _ = dashboard()
    for number, v2v in ((1, 380.0), (2, 352.0), (3, 410.0)):
        a_turn(board, number, v2v)
    board.handle(
        SystemStats(
            cpu_percent=23.0,
            rss_mb=420.0,
            process_cpu_percent=8.0,
            mem_percent=6.0,
            cpu_freq_mhz=2445.0,
            load_1m=0.5,
        )
    )
    board.handle(WarningEvent(code="capture_overflow", message="3 audio blocks dropped", count=3))
    board.handle(Level(rms_db=-20.0, peak_db=-6.0))
    text = screen_text(board)
    assert "you: What is two plus two?" in text
    assert "assistant: 2 plus 2 is 4." in text
    assert re.search(r"\b3\s+212\s+377\s+1\s+3\s+410\s+both \(p 0\.93\)", text), text
    assert re.search(r"\b2\s+212\s+377\s+1\s+3\s+352\s+rule\b", text), text
    assert f"voice-to-voice {sparkline([380.0, 352.0, 410.0])}" in text
    assert "CPU 23 %" in text and "2445 MHz" in text and "RSS 420 MB" in text
    assert "warning: 3 audio blocks dropped" in text
    assert meter(-20.0) in text and "LISTENING" in text


def test_echo_line_follows_the_canceller():
    """The ``echo`` events of the real WebRTC canceller on a reply heard 40 ms late give the
    echo line its state, ERLE and delay; none before the first event; ``off`` says why."""
    import numpy as np
    import soxr

    from voicecli.audio.echo_canceller import EchoCanceller, MonitoredCanceller
    from voicecli.audio.playback_monitor import PlaybackMonitor
    from voicecli.core.audio_format import FRAME, SAMPLE_RATE, TTS_RATE
    from voicecli.core.events import Echo

    board, _ = dashboard()
    assert "echo" not in screen_text(board).split("conversation")[0]
    reply = compose("The forecast says a dry morning and clouds after noon.")
    reply = soxr.resample(reply, TTS_RATE, SAMPLE_RATE).astype(np.float32)
    mic = 0.8 * np.concatenate((np.zeros(40 * SAMPLE_RATE // 1000, np.float32), reply))
    monitor = PlaybackMonitor()
    live = MonitoredCanceller(EchoCanceller(), monitor, board.handle)
    for start in range(0, len(reply) - FRAME + 1, FRAME):
        monitor.append(reply[start : start + FRAME], audible=True)
        live.process(mic[start : start + FRAME], monitor.count)
    echo = board.state.echo
    line = f"echo converged, ERLE {echo.erle_db:.0f} dB, delay 40 ms"
    assert echo.state == "converged" and echo.erle_db > 20
    assert line in screen_text(board), screen_text(board)
    board.handle(Echo(state="off", reason="livekit not installed"))
    assert "echo off (livekit not installed)" in screen_text(board)


def test_meter_and_sparkline_scale():
    assert meter(-100.0) == "░" * 24
    assert meter(0.0) == "█" * 24
    assert sparkline([1.0, 2.0, 3.0]) == "▁▅█"
    assert sparkline([]) == ""


def test_refresh_costs_under_five_percent_of_a_core():
    """10 Hz of level events (a redraw each), a system sample a second and a turn a second:
    the refresh thread's CPU time over wall time."""
    board, console = dashboard()
    seconds = 4.0
    with board.shown():
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            n += 1
            board.handle(Level(rms_db=-60.0 + (n % 40), peak_db=-10.0))
            if n % 10 == 0:
                a_turn(board, n // 10, 300.0 + n)
                board.handle(
                    SystemStats(
                        cpu_percent=20.0, rss_mb=400.0, process_cpu_percent=9.0, mem_percent=6.0
                    )
                )
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    share = board.cpu_s / elapsed
    print(f"\ndashboard: {board.frames} redraws in {elapsed:.1f} s, {100 * share:.2f} % of a core")
    assert board.frames >= 0.4 * seconds * 10, "it kept up with the events"
    assert board.frames <= seconds * 10 + 2, "at most 10 redraws a second"
    assert share < 0.25  # target 5 %, asserted with a 5x margin for a loaded machine
    assert "\x1b[?1049l" in console.file.getvalue(), "the alternate screen was left"


# -- the real thing, in tmux ---------------------------------------------------------------


class Tmux:
    def __init__(self, env: dict) -> None:
        self.name = f"voicecli-{uuid.uuid4().hex[:8]}"
        self.env = env

    def __enter__(self) -> Tmux:
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                "100",
                "-y",
                "40",
                "bash",
                "--norc",
                "--noprofile",
            ],
            env=self.env,
            check=True,
            timeout=10,
        )
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], timeout=10)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True, timeout=10)

    def screen(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text, re.MULTILINE):
                return text
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} never appeared on screen:\n{self.screen()}")


@pytest.mark.slow
@pytest.mark.live
def test_dashboard_in_a_real_terminal(pulse, tmp_path):
    assert shutil.which("tmux"), "tmux is needed (apt-get install tmux)"
    question = tmp_path / "question.wav"
    write_wav(question, compose(0.3, "What is two plus two?", 0.5), 16000)
    env = {**pulse.env, "TERM": "xterm-256color", "PS1": "$ "}
    with Tmux(env) as term:
        term.keys("voicecli chat; echo EXIT=$?", "Enter")
        term.wait_for(r"LISTENING", 90)
        deadline = time.monotonic() + 60
        while "assistant: 2 plus 2 is 4." not in term.screen() and time.monotonic() < deadline:
            pulse.play(question).wait(10)
            time.sleep(3)
        screen = term.wait_for(r"assistant: 2 plus 2 is 4\.", 5)
        assert re.search(r"you: what is 2 plus 2\?", screen, re.IGNORECASE), screen
        screen = term.wait_for(r"│\s+1\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+(rule|model|both)", 10)
        assert "latency (ms)" in screen and "voice-to-voice" in screen
        screen = term.wait_for(r"CPU\s+\d+ %", 10)
        assert "system" in screen and "RSS" in screen
        term.keys("t")
        term.wait_for(r"type> ", 5)
        term.keys("what is three plus four", "Enter")
        screen = term.wait_for(r"assistant: 3 plus 4 is 7\.", 15)
        print("\n" + screen)
        term.keys("q")
        after = term.wait_for(r"^EXIT=\d+", 10)
        assert "EXIT=0" in after
        assert "you: what is three plus four" in after, "the conversation is printed on exit"
        term.keys(
            "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo; echo usable-$((40+2))", "Enter"
        )
        after = term.wait_for(r"^usable-42", 10)
    assert re.search(r"^icanon$", after, re.MULTILINE) and re.search(r"^echo$", after, re.MULTILINE)


# -- keys ----------------------------------------------------------------------------------


class FakeMic:
    """Records what the keys asked of the microphone (MicSource's two controls)."""

    push_to_talk = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def toggle_mute(self) -> None:
        self.calls.append("mute")

    def toggle_talk(self) -> None:
        self.calls.append("talk")


def test_keys_quit_mute_talk_hush_and_type():
    typed, hushed, mic = [], [], FakeMic()
    controls = Controls(submit_text=typed.append, mic=mic, hush=lambda: hushed.append(1))
    for key in ["m", " ", "s", "t", *"hello therx", "\x7f", "e", "\r", "q"]:
        controls.on_key(key)
    assert mic.calls == ["mute", "talk"]
    assert hushed == [1]
    assert typed == ["hello there"]
    assert controls.quit.is_set()
    controls.on_key("t")
    controls.on_key("x")
    controls.on_key("\x1b")  # Esc cancels the message
    assert controls.typing is None and typed == ["hello there"]


def test_keys_are_read_with_a_timeout_and_the_terminal_mode_restored():
    import os
    import termios

    from voicecli.cli.keys import cbreak, read_keys, split_keys

    main, terminal = os.openpty()
    try:
        before = termios.tcgetattr(terminal)
        with cbreak(terminal):
            started = time.monotonic()
            assert read_keys(terminal, timeout=0.1) == ""
            assert time.monotonic() - started < 0.5
            os.write(main, b"q")
            assert read_keys(terminal, timeout=1.0) == "q"
            os.write(main, b"\x1b[A")
            assert split_keys(read_keys(terminal, timeout=1.0)) == ["\x1b[A"]
        assert termios.tcgetattr(terminal) == before
    finally:
        os.close(main)
        os.close(terminal)
