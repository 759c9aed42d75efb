"""``voicecli serve --wyoming``: the real command in a subprocess, next to the WebSocket server
or alone; Home Assistant's describe is answered while the models still load."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import time

import pytest
from support.cli import NO_TOKEN, command, environment
from support.server import run
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from voicecli.core.errors import ExitStatus


def _line(proc: subprocess.Popen, timeout: float = 90.0) -> str:
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not selector.select(timeout=timeout):
            proc.kill()
            pytest.fail("voicecli serve printed nothing: " + proc.communicate()[1])
        return proc.stdout.readline()
    finally:
        selector.close()


def _serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        command("serve", "--port", "0", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(NO_TOKEN),
    )


async def describe_and_ask(port: int, text: str | None) -> tuple[Info, float, str | None]:
    start = time.perf_counter()
    async with AsyncTcpClient("127.0.0.1", port) as conn:
        await conn.write_event(Describe().event())
        info = Info.from_event(await conn.read_event())
        elapsed = time.perf_counter() - start
        if text is None:
            return info, elapsed, None
        await conn.write_event(Transcript(text=text, context={"conversation_id": "c"}).event())
        return info, elapsed, (await conn.read_event()).data["text"]


@pytest.mark.slow
@pytest.mark.parametrize("websocket", [True, False])
def test_serve_wyoming_answers_describe_while_loading_and_exits_143(websocket):
    proc = _serve("--wyoming", "tcp://127.0.0.1:0", *([] if websocket else ["--no-websocket"]))
    try:
        first = _line(proc)
        port = int(re.search(r"tcp://127\.0\.0\.1:(\d+)", first).group(1))
        info, elapsed, _ = run(describe_and_ask(port, None))  # the models are still loading
        assert elapsed < 1.0 and info.asr[0].installed and info.handle[0].installed
        serving = _line(proc)
        assert f"tcp://127.0.0.1:{port}" in serving
        assert ("ws://127.0.0.1:" in serving) is websocket
        _info, _elapsed, reply = run(describe_and_ask(port, "what is eight times seven"))
        assert "56" in reply
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == ExitStatus.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate()
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wyoming", "tcp://0.0.0.0:0"], "no authentication"),
        (["--wyoming", "http://127.0.0.1:10300"], "expected tcp://HOST:PORT"),
        (["--no-websocket"], "--no-websocket needs --wyoming"),
        (["--zeroconf"], "--zeroconf needs --wyoming"),
        (["--wyoming", "tcp://127.0.0.1:0", "--zeroconf"], "--zeroconf needs a LAN bind"),
    ],
)
def test_refused_wyoming_options_exit_2(args, message):
    proc = _serve(*args)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitStatus.USAGE, err
    assert message in err and "Traceback" not in err


def test_allow_lan_says_what_it_exposes():
    proc = _serve("--wyoming", "tcp://0.0.0.0:0", "--wyoming-allow-lan", "--no-websocket")
    try:
        assert "Wyoming" in _line(proc)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate()
    assert "without authentication" in err and "text-to-speech" in err
