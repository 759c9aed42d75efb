"""``voicecli connect``: streams a file or a pipe, prints events, writes the replies, exits after
done, and reconnects (resuming its session) when the connection drops."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess

import numpy as np
import pytest
import soundfile as sf
from support.cli import command
from support.server import (
    ANSWER,
    run,
)
from typer.testing import CliRunner

from voicecli.audio.file import write_wav
from voicecli.cli.main import app
from voicecli.core.errors import ExitStatus
from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.synth import compose
from voicecli.server.client import Streamer, StreamOptions

RECALL = "You asked: What is 12 times 8?"


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("connect") / "question.wav"
    write_wav(path, compose(0.5, "What is twelve times eight?", 1.5), 16000)
    return str(path)


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def finals(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if m["type"] == "reply" and m["final"]]


@pytest.mark.slow
def test_connect_streams_a_file_prints_json_writes_the_replies_and_exits_after_done(
    cli, server, question_wav, tmp_path
):
    out = tmp_path / "replies.wav"
    args = ["connect", server.url, "--input", question_wav, "--output", str(out), "--json"]
    result = cli.invoke(app, [*args, "--text", "what did I just ask?"])
    assert result.exit_code == 0, result.output
    messages = json_lines(result.stdout)
    assert messages[0]["type"] == "ready" and messages[-1]["type"] == "done"
    assert finals(messages) == [ANSWER, RECALL]
    assert not any(m["type"] == "audio" for m in messages)  # audio goes to --output
    audio, rate = sf.read(out, dtype="int16")
    assert rate == 16000
    assert 2.0 < len(audio) / rate < 12.0  # two spoken replies and their gaps
    assert np.abs(audio).max() > 1000


def test_connect_prints_plain_lines_by_default(cli, server):
    result = cli.invoke(app, ["connect", server.url, "--text", "what is two plus two"])
    assert result.exit_code == 0, result.output
    assert "you: what is two plus two" in result.stdout
    assert "assistant: 2 plus 2 is 4." in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        ([], ExitStatus.USAGE, "nothing to send"),
        (["--input", "/no/such/file.wav"], ExitStatus.BAD_AUDIO, "no such file"),
    ],
)
def test_connect_refuses_what_it_cannot_do_with_a_clear_message(cli, args, status, fragment):
    result = cli.invoke(app, ["connect", "ws://127.0.0.1:9", *args])
    assert result.exit_code == status
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_connect_refuses_a_malformed_address(cli):
    result = cli.invoke(app, ["connect", "http://example.org", "--text", "hi"])
    assert result.exit_code == ExitStatus.USAGE
    assert "ws://HOST:PORT" in result.stderr


def test_a_server_that_never_answers_makes_the_client_give_up_after_its_attempts():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    statuses: list[str] = []
    options = StreamOptions(url=f"ws://127.0.0.1:{port}", texts=["hi"], attempts=3)
    options.backoff_s = (0.05, 0.1)
    status = run(Streamer(options, None, lambda m: None, statuses.append).run())
    assert status == ExitStatus.RUNTIME_FAILURE
    delays = [line.split("reconnecting in ")[1].split(" s")[0] for line in statuses[:-1]]
    assert delays == ["0.05", "0.1", "0.1"]  # doubling, capped
    assert statuses[-1].startswith("giving up after 3 attempts")


@pytest.mark.slow
@pytest.mark.parametrize("stdin_kind", ["pipe", "file"])
def test_connect_reads_raw_pcm_from_stdin(server, question_pcm, stdin_kind, tmp_path):
    argv = command("connect", server.url, "--input", "-", "--json")
    if stdin_kind == "file":
        raw = tmp_path / "question.raw"
        raw.write_bytes(question_pcm)
        with raw.open("rb") as stdin:
            done = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=60)
    else:
        done = subprocess.run(argv, input=question_pcm, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert finals(json_lines(done.stdout.decode())) == [ANSWER]


class DroppingProxy:
    """A TCP relay to the server that cuts its connections once, 0.3 s after ``after_bytes``
    of server-to-client traffic (a phone losing its network mid-conversation)."""

    def __init__(self, target_port: int, after_bytes: int) -> None:
        self.target_port = target_port
        self.after_bytes = after_bytes
        self.dropped = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]
        self._thread = ManagedThread("proxy", self._run)

    def __enter__(self) -> DroppingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._thread.stop_and_join()
        self._sock.close()

    def _run(self, thread: ManagedThread) -> None:
        asyncio.run(self._main(thread))

    async def _main(self, thread: ManagedThread) -> None:
        server = await asyncio.start_server(self._relay, sock=self._sock)
        async with server:
            while not thread.should_stop():
                await asyncio.sleep(0.05)

    async def _relay(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        cut = asyncio.Event()

        async def pipe(reader, writer, count: bool) -> None:
            forwarded = 0
            while not reader.at_eof():
                data = await reader.read(4096)
                writer.write(data)
                forwarded += len(data)
                if count and not self.dropped and forwarded > self.after_bytes:
                    self.dropped += 1
                    asyncio.get_running_loop().call_later(0.3, cut.set)

        tasks = [
            asyncio.create_task(pipe(client_reader, server_writer, count=False)),
            asyncio.create_task(pipe(server_reader, client_writer, count=True)),
        ]
        waiter = asyncio.create_task(cut.wait())
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        for task in [*tasks, waiter]:
            task.cancel()
        for writer in (client_writer, server_writer):
            writer.transport.abort()


@pytest.mark.slow
def test_a_dropped_connection_is_resumed_and_the_conversation_goes_on(cli, server, tmp_path):
    wav = tmp_path / "two.wav"
    audio = compose(0.5, "What is twelve times eight?", 3.0, "What did I just ask?", 1.5)
    write_wav(wav, audio, 16000)
    with DroppingProxy(server.port, after_bytes=40_000) as proxy:  # cut after the 1st reply
        url = f"ws://127.0.0.1:{proxy.port}"
        result = cli.invoke(app, ["connect", url, "--input", str(wav), "--json"])
    assert proxy.dropped == 1
    assert result.exit_code == 0, result.output
    messages = json_lines(result.stdout)
    ready = [m for m in messages if m["type"] == "ready"]
    assert len(ready) == 2
    assert ready[1]["resumed"] is True and ready[1]["session_id"] == ready[0]["session_id"]
    assert ready[1]["history_turns"] == 1
    assert finals(messages)[-1] == RECALL
    assert "reconnecting in 1 s" in result.stderr
    assert messages[-1]["type"] == "done"


def test_events_from_the_server_read_back_as_events(server):
    from voicecli.core.events import from_dict

    result = CliRunner().invoke(
        app, ["connect", server.url, "--text", "what is ten minus three", "--json"]
    )
    events = [
        from_dict(m)
        for m in json_lines(result.stdout)
        if m["type"] not in ("ready", "done", "audio_stop", "reset_done")
    ]
    assert [e.type for e in events if e.type in ("transcript", "reply")] == [
        "transcript",
        "reply",
        "reply",
    ]
