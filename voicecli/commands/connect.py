"""``voicecli connect``: talk to a ``voicecli serve`` server from a file or a pipe."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from typing import Any

import numpy as np
import typer

from voicecli.cli import app, handle_errors
from voicecli.errors import ExitStatus, UsageError

LIVE_AUDIO_LATER = (
    "--input mic and --output speaker are not available in connect yet (they arrive with "
    "live audio); use --input FILE or '-', and --output FILE or none"
)


class MessagePrinter:
    """Server messages to the terminal (``--json``: one JSON line each, audio headers
    excepted) and reply audio to the ``--output`` sink."""

    def __init__(self, json_: bool, sink) -> None:
        self.json = json_
        self.sink = sink

    def __call__(self, message: dict[str, Any]) -> None:
        from voicecli.events import from_dict
        from voicecli.printer import format_plain

        kind = message["type"]
        if kind == "audio":
            self.sink.write(np.frombuffer(message["data"], dtype="<i2"))
            return
        if kind == "playback" and message.get("state") in ("stopped", "cut"):
            self.sink.end_reply()
        if self.json:
            typer.echo(json.dumps(message, ensure_ascii=False))
        elif kind == "ready":
            resumed = f" (resumed, {message['history_turns']} turns)" if message["resumed"] else ""
            typer.echo(f"voicecli: connected, session {message['session_id']}{resumed}", err=True)
        elif kind not in ("done", "reset_done", "audio_stop"):
            try:
                line = format_plain(from_dict(message))
            except (KeyError, TypeError):  # an event this version does not know
                line = None
            if line:
                typer.echo(line)


def _open_input(input: str, rate: int, frame_ms: int):
    """(chunks, realtime): a decoded file or a file on stdin (paced), or (None, False) for a
    live pipe on stdin (read inside the event loop; its writer sets the pace)."""
    from voicecli.audio_file import load_audio, to_int16
    from voicecli.client import pcm_chunks

    if input != "-":
        pcm = to_int16(load_audio(input)).astype("<i2").tobytes()
        return pcm_chunks(pcm, rate, frame_ms), True
    stdin = sys.stdin.buffer
    if stdin.isatty():
        raise UsageError("--input -: pipe raw 16-bit 16 kHz mono PCM into stdin")
    if stat.S_ISREG(os.fstat(stdin.fileno()).st_mode):  # `< file.raw`
        pcm = stdin.read()
        return pcm_chunks(pcm[: len(pcm) // 2 * 2], rate, frame_ms), True
    return None, False


async def _stream(options, chunks, realtime: bool, pipe: bool, printer) -> ExitStatus:
    from voicecli.client import Streamer, pipe_chunks

    if pipe:
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
        )
        chunks = pipe_chunks(reader, options.rate, options.frame_ms)

    def status(message: str) -> None:
        typer.echo(f"voicecli: {message}", err=True)

    return await Streamer(options, chunks, printer, status, realtime=realtime).run()


@app.command()
@handle_errors
def connect(
    url: str = typer.Argument(..., help="The server: ws://HOST:PORT"),
    input: str | None = typer.Option(
        None, "--input", "-i", help="Audio file, or '-' for raw 16-bit 16 kHz mono PCM on stdin."
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="WAV file for the replies, or 'none' (default)."
    ),
    text: list[str] = typer.Option(
        [], "--text", "-t", help="A typed turn, sent after the audio (repeatable)."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="VOICECLI_TOKEN", help="The server's token (env VOICECLI_TOKEN)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the server's messages as JSON Lines."),
) -> None:
    """Stream audio to a voicecli server in real time and print what comes back."""
    from voicecli.audio_sink import FileSink, NullSink
    from voicecli.client import StreamOptions, parse_address

    if (input or "").lower() == "mic" or (output or "").lower() == "speaker":
        raise UsageError(LIVE_AUDIO_LATER)
    if input is None and not text:
        raise UsageError("nothing to send: give --input FILE, --input - or --text TEXT")
    parse_address(url)
    options = StreamOptions(url=url, token=token, texts=list(text))
    chunks, realtime = None, False
    if input is not None:  # a bad file fails now, before connecting (exit 3)
        chunks, realtime = _open_input(input, options.rate, options.frame_ms)
    pipe = input == "-" and chunks is None
    no_output = output is None or output.lower() == "none"
    sink = NullSink() if no_output else FileSink(output, rate=options.rate)
    try:
        printer = MessagePrinter(json_, sink)
        status = asyncio.run(_stream(options, chunks, realtime, pipe, printer))
    finally:
        sink.close()
    raise typer.Exit(int(status))
