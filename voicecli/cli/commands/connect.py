"""``voicecli connect``: talk to a ``voicecli serve`` server from a file, a pipe or the
microphone, and hear the replies on the speaker or keep them in a file.

With the microphone and the speaker, the speaker's voice comes back through the microphone.
The server cannot tell it from the user's (nor know what the client is still playing), so the
client runs the same WebRTC echo canceller and echo guard as ``chat --echo-cancel
--barge-in``, with its own playback as the reverse stream: speech over its playback cuts the
speaker at once and sends ``interrupt``, then the speech itself, which the server answers as
the next turn. Until the canceller has settled on a reply, and with ``--no-barge-in`` or
without the module, the guard gates the microphone instead (silence is sent, so the server's
clock keeps moving) and speaking over a reply does not interrupt it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import queue
import stat
import sys
import time
from typing import Any

import numpy as np
import typer

from voicecli.cli.app import app, handle_errors
from voicecli.cli.options import InputDevice, Output, OutputDevice
from voicecli.core.errors import ExitStatus, UsageError

MIC, SPEAKER = "mic", "speaker"
INTERRUPT = {"type": "interrupt"}  # the client's barge-in, sent in place in the audio stream
MIC_FRAMES = 64  # microphone frames queued for the connection (~2 s; beyond: dropped, counted)


class MessagePrinter:
    """Server messages to the terminal (``--json``: one JSON line each, audio headers
    excepted) and reply audio to the ``--output`` sink. ``audio_stop`` cuts the speaker at
    once, through the same interrupt as everywhere (a ``PlaybackLine``; the ``playback`` events
    are the server's, so the local line reports none); the speaker plays in the background,
    so a reply's end is only marked, never waited for (this runs on the event loop)."""

    def __init__(self, json_: bool, sink, speaker: bool = False) -> None:
        from voicecli.audio.playback import PlaybackLine

        self.json = json_
        self.sink = sink
        self.speaker = speaker
        self.line = PlaybackLine(sink, emit=lambda event: self(event.to_dict()))

    def __call__(self, message: dict[str, Any]) -> None:
        from voicecli.cli.printer import format_plain
        from voicecli.core.events import from_dict
        from voicecli.core.messages import AUDIO_STOP, Interrupt

        kind = message["type"]
        if kind == "audio":
            self.sink.write(np.frombuffer(message["data"], dtype="<i2"))
            return
        if kind == "audio_stop":
            self.line.interrupt(Interrupt(AUDIO_STOP))
        elif kind == "playback" and self.speaker:  # a reply boundary: the cut one's rest goes
            self.sink.end_reply(wait=False)
        elif kind == "playback" and message.get("state") in ("stopped", "cut"):
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
    from voicecli.audio.file import load_audio, to_int16
    from voicecli.server.client import pcm_chunks

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
    from voicecli.server.client import Streamer, pipe_chunks

    if pipe:
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
        )
        chunks = pipe_chunks(reader, options.rate, options.frame_ms)

    def status(message: str) -> None:
        typer.echo(f"voicecli: {message}", err=True)

    return await Streamer(options, chunks, printer, status, realtime=realtime).run()


class ClientBargeIn:
    """What the echo guard interrupts on the client (``LiveAudio.attach``): the speaker is cut
    at once through the printer's PlaybackLine (a local ``barge_in`` event with its stop
    latency), and ``interrupt`` goes to the server ahead of the speech that caused it.

    A word too short to barge in ("stop") is not transcribed: the client has no speech model,
    so ``hear`` drops it as the gate would."""

    def __init__(self, line, frames: queue.Queue) -> None:
        self.line = line
        self.frames = frames

    def interrupt(self, request) -> bool:
        stopped = self.line.interrupt(request)
        with contextlib.suppress(queue.Full):  # behind: the server cuts on hearing the speech
            self.frames.put_nowait(INTERRUPT)
        return stopped

    def hear(self, _word) -> None:
        return None


class Devices:
    """The microphone (with its thread) and the sink of the replies, opened before connecting
    so that a missing device fails first (exit 4), as in chat. With both the microphone and
    the speaker, barge-in through the WebRTC echo canceller unless ``barge_in`` is off or the
    module cannot load (then a notice, and the gate)."""

    def __init__(
        self,
        mic: bool,
        output: str,
        input_device,
        output_device,
        rate: int,
        *,
        barge_in: bool = True,
        json_: bool = False,
    ) -> None:
        self.speaker = output.lower() == SPEAKER
        self.audio = None
        self.thread = None
        self.json = json_
        self.barge_in = mic and self.speaker and barge_in and _canceller_loads()
        if mic:
            from voicecli.core.config import load_config
            from voicecli.pipeline.live import LiveAudio, LiveOptions

            live_output = SPEAKER if self.speaker else "none"
            options = LiveOptions(
                input_device,
                live_output,
                output_device,
                barge_in=self.barge_in,
                reply_rate=rate,
                echo_cancel=self.barge_in,
                **dataclasses.asdict(load_config().config.echo),
            )
            self.audio = LiveAudio(options, self._mic_event)
        if self.audio is not None and self.speaker:
            self.sink = self.audio.sink
        elif self.speaker:
            from voicecli.audio.speaker import SpeakerSink

            self.sink = SpeakerSink(output_device, source_rate=rate)
        else:
            from voicecli.audio.sink import FileSink, NullSink

            self.sink = NullSink() if output.lower() == "none" else FileSink(output, rate=rate)

    def _mic_event(self, event) -> None:
        """Capture warnings on stderr; with ``--json`` the echo canceller's ``echo`` events
        too (levels and mic states are not shown)."""
        if event.type == "warning":
            typer.echo(f"voicecli: warning: {event.message}", err=True)
        elif event.type == "echo" and self.json:
            typer.echo(json.dumps(event.to_dict()))

    def mic_chunks(self, line):
        """Start the microphone; its frames as the Streamer's input. ``line`` is the reply
        audio's PlaybackLine, which a barge-in cuts."""
        from voicecli.core.lifecycle import ManagedThread
        from voicecli.server.client import LiveChunks

        frames: queue.Queue = queue.Queue(MIC_FRAMES)
        if self.barge_in:
            self.audio.attach(ClientBargeIn(line, frames))
        self.thread = ManagedThread("mic", self.audio.source.run, frames).start()
        return LiveChunks(frames, self.thread)

    def finish(self) -> None:
        """After ``done``: let the speaker play the last reply to its end."""
        if self.speaker:
            self.sink.end_reply()
            time.sleep(self.sink.output_latency)  # what PortAudio still holds

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop_and_join()
        self.sink.close()


def _canceller_loads() -> bool:
    """The WebRTC module loads here; if not, say so once: the microphone is gated instead."""
    from voicecli.audio.echo_canceller import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        typer.echo(f"voicecli: {reason}; the microphone is muted while replies play", err=True)
    return reason is None


@app.command()
@handle_errors
def connect(
    url: str = typer.Argument(..., help="The server: ws://HOST:PORT"),
    input: str | None = typer.Option(
        None,
        "--input",
        "-i",
        help="'mic', an audio file, or '-' for raw 16-bit 16 kHz mono PCM on stdin.",
    ),
    input_device: InputDevice = None,
    output: Output = None,
    output_device: OutputDevice = None,
    text: list[str] = typer.Option(
        [], "--text", "-t", help="A typed turn, sent after the audio (repeatable)."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="VOICECLI_TOKEN", help="The server's token (env VOICECLI_TOKEN)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the server's messages as JSON Lines."),
    no_barge_in: bool = typer.Option(
        False,
        "--no-barge-in",
        help="With --input mic on the speaker: mute the mic while replies play (no interrupting).",
    ),
) -> None:
    """Stream audio to a voicecli server in real time and print what comes back."""
    from voicecli.server.client import StreamOptions, parse_address

    mic = (input or "").lower() == MIC
    output = output or (SPEAKER if mic else "none")
    if input is None and not text:
        raise UsageError("nothing to send: give --input FILE, --input -, --input mic or --text")
    if mic and text:
        raise UsageError("--text cannot follow --input mic (the microphone never ends)")
    if input_device and not mic:
        raise UsageError("--input-device needs --input mic")
    if output_device and output.lower() != SPEAKER:
        raise UsageError("--output-device needs --output speaker")
    parse_address(url)
    options = StreamOptions(url=url, token=token, texts=list(text))
    chunks, realtime = None, False
    if input is not None and not mic:  # a bad file fails now, before connecting (exit 3)
        chunks, realtime = _open_input(input, options.rate, options.frame_ms)
    pipe = input == "-" and chunks is None
    if no_barge_in and not (mic and output.lower() == SPEAKER):
        raise UsageError("--no-barge-in needs --input mic and --output speaker")
    devices = Devices(
        mic,
        output,
        input_device,
        output_device,
        options.rate,
        barge_in=not no_barge_in,
        json_=json_,
    )
    try:
        printer = MessagePrinter(json_, devices.sink, speaker=devices.speaker)
        if mic:
            chunks = devices.mic_chunks(printer.line)
            name = devices.audio.source.name
            typer.echo(f"voicecli: listening on {name} (Ctrl-C ends)", err=True)
        status = asyncio.run(_stream(options, chunks, realtime, pipe, printer))
        if status is ExitStatus.OK:
            devices.finish()
    finally:
        devices.close()
    raise typer.Exit(int(status))
