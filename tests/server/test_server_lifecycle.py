"""Failures and shutdown: a failing session closes alone (1011), a failing shared part ends the
server (exit 6), SIGINT/SIGTERM close every session with 1001 and leave no thread."""

from __future__ import annotations

import asyncio
import re
import selectors
import signal
import socket
import subprocess
import threading

import pytest
from support.cli import NO_TOKEN, command, environment, voicecli
from support.server import (
    converse,
    final_replies,
    of,
    open_client,
    run,
)

from voicecli.core.errors import ExitStatus
from voicecli.core.lifecycle import ManagedThread, alive_threads
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.brain import SkillsBrain
from voicecli.server.app import ServerOptions, VoiceServer, serve_until_signal
from voicecli.server.client import ServerClosed
from voicecli.server.protocol import Close


class Meltdown(BaseException):
    """Not an Exception: escapes every stage's own error handling, like a real bug would."""


class FragileBrain(SkillsBrain):
    def reply(self, text, conversation):
        if "crash" in text:
            raise Meltdown("the brain fell over")
        yield from super().reply(text, conversation)


class CrashingStt:
    """An STT engine whose worker thread dies on the first job (a shared part failing)."""

    def transcribe(self, audio, **kwargs):
        raise Meltdown("the STT worker fell over")


def test_a_stage_failure_closes_only_that_session_with_an_error_and_1011(start_server):
    server = start_server(brain=FragileBrain())

    async def scenario():
        doomed, fine = await asyncio.gather(open_client(server), open_client(server))
        await doomed.send_text("please crash now")
        messages = []
        with pytest.raises(ServerClosed) as closed:
            while True:
                messages.append(await doomed.receive(timeout=10))
        turn = await converse(fine, texts=("what is three plus four",))
        again = await open_client(server, session_id=doomed.session_id)  # still resumable
        after = await converse(again, texts=("what is one plus one",))
        await asyncio.gather(fine.close(), again.close())
        return messages, closed.value, turn, again, after

    messages, closed, turn, again, after = run(scenario())
    errors = of(messages, "error")
    assert len(errors) == 1 and errors[0]["fatal"] is True
    assert "responder" in errors[0]["message"] and "Meltdown" in errors[0]["message"]
    assert closed.code == Close.STAGE_FAILED
    assert final_replies(turn) == ["3 plus 4 is 7."]
    assert again.ready["resumed"] is True
    assert final_replies(after) == ["1 plus 1 is 2."]


def test_a_failing_shared_part_ends_the_server_with_exit_6(engines, question_pcm):
    broken = Engines(stt=CrashingStt(), tts=engines.tts)
    server = VoiceServer(ServerOptions(port=0), broken)
    status = []
    announced = []

    def serve(thread: ManagedThread) -> None:
        status.append(serve_until_signal(server, announced.append))

    runner = ManagedThread("serve", serve).start()
    try:
        for _ in range(100):
            if announced:
                break
            runner.wait(0.05)
        assert announced, "the server did not start"

        async def scenario():
            client = await open_client(server)
            with pytest.raises(ServerClosed) as closed:
                await converse(client, question_pcm, speed=4.0, timeout=30)
            return closed.value

        closed = run(scenario())
        assert runner.join(15), "serve_until_signal did not return"
    finally:
        runner.stop_and_join()
        server.stop()
    assert status == [ExitStatus.RUNTIME_FAILURE]
    assert closed.code == Close.STAGE_FAILED
    assert "stt failed" in server.failure and "Meltdown" in server.failure


def test_shutdown_during_traffic_closes_sessions_with_1001_and_leaves_no_thread(
    engines, question_pcm
):
    server = VoiceServer(ServerOptions(port=0), engines).start()

    async def client_until_closed(kind: str):
        client = await open_client(server)
        try:
            if kind == "audio":
                await converse(client, question_pcm * 3, speed=1.0, timeout=30)
            else:
                while True:
                    await converse(client, texts=("what is two plus two",), timeout=30)
        except ServerClosed as closed:
            return closed.code
        return None

    async def scenario():
        clients = [asyncio.create_task(client_until_closed(k)) for k in ["audio"] * 2 + ["text"]]
        await asyncio.sleep(1.5)
        assert server.stats()["live"] == 3
        stopper = ManagedThread("stopper", lambda thread: server.stop()).start()
        codes = await asyncio.gather(*clients)
        while stopper.is_alive():
            await asyncio.sleep(0.05)
        return codes

    try:
        codes = run(scenario(), timeout=60)
    finally:
        assert server.stop(), "threads did not stop"
    assert codes == [Close.GOING_AWAY] * 3
    assert alive_threads() == []


def test_connections_come_and_go_without_leaving_a_thread(start_server, question_pcm):
    server = start_server()
    baseline = {t.ident for t in threading.enumerate()}

    def session_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.ident not in baseline]

    async def scenario():
        during = []
        for number in range(8):
            client = await open_client(server)
            if number % 4 == 0:
                await converse(client, question_pcm, speed=4.0)
            else:
                await converse(client, texts=(f"what is {number} plus {number}",))
            during.append(session_threads())
            await client.close()
            while (stats := server.stats())["live"] or stats["tearing_down"]:
                await asyncio.sleep(0.02)
        return during

    during = run(scenario())
    managed = {f"voicecli-{t.name}" for t in alive_threads()}
    for threads in during:  # one live session: only its pipeline's managed threads
        assert 0 < len(threads) <= 6
        assert all(t.name.startswith("voicecli-") for t in threads), threads
    assert session_threads() == []
    assert {"voicecli-stt", "voicecli-server"} <= managed
    assert server.stats() == {"live": 0, "kept": 8, "tearing_down": 0, "dropped_audio": 0}


def test_a_busy_port_is_refused_at_once_with_exit_2():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = voicecli("serve", "--port", str(port), timeout=60)
    assert done.returncode == ExitStatus.USAGE
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def _start_cli_server(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        command("serve", "--port", "0", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(NO_TOKEN),
    )
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=90):
        proc.kill()
        pytest.fail("voicecli serve did not start: " + proc.communicate()[1])
    line = proc.stdout.readline()
    selector.close()
    match = re.search(r"ws://127\.0\.0\.1:\d+", line)
    assert match, f"no address in {line!r}: {proc.stderr.read() if proc.poll() else ''}"
    return proc, match.group(0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGTERM, ExitStatus.SIGTERM), (signal.SIGINT, ExitStatus.SIGINT)]
)
def test_a_signal_closes_every_session_with_1001_and_the_server_exits(signum, status):
    proc, url = _start_cli_server("--max-sessions", "1", "--ping-interval", "1")
    try:

        async def scenario():
            client = await open_client_url(url)
            with pytest.raises(ServerClosed) as full:
                await open_client_url(url)  # --max-sessions 1 reached the server
            await converse(client, texts=("what is two plus two",))
            proc.send_signal(signum)
            with pytest.raises(ServerClosed) as closed:
                await client.receive(timeout=15)
            return full.value, closed.value

        full, closed = run(scenario())
        assert proc.wait(timeout=20) == status
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate()
    assert full.code == Close.SERVER_FULL
    assert closed.code == Close.GOING_AWAY
    assert "Traceback" not in err


async def open_client_url(url: str):
    from voicecli.server.client import ClientSession

    return await ClientSession.open(url)
