"""The WebSocket client: ``voicecli connect``, the load benchmark and the tests use it.

Why one client: the protocol (docs/protocol.md) is spoken the same way everywhere, so the
server's tests exercise the client users run. ``ClientSession`` is one connection;
``Streamer`` is ``voicecli connect``: it streams audio in real time (a file, a pipe or the
microphone), sends ``end`` at the end of the input, prints what comes back and, when the
connection drops, reconnects with backoff (1 s doubling to 30 s, 10 attempts) and resumes its
session where it was.
"""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from voicecli.audio.file import to_int16
from voicecli.core.errors import ExitStatus, UsageError
from voicecli.core.lifecycle import ManagedThread
from voicecli.server import protocol
from voicecli.server.protocol import MAX_MESSAGE_BYTES, Close

#: Close codes after which reconnecting cannot help (with the exit status they map to).
FINAL_CLOSES = {
    Close.NORMAL: ExitStatus.OK,
    Close.BAD_HELLO: ExitStatus.RUNTIME_FAILURE,
    Close.UNAUTHORIZED: ExitStatus.USAGE,
    Close.BAD_VERSION: ExitStatus.RUNTIME_FAILURE,
    Close.TAKEN_OVER: ExitStatus.RUNTIME_FAILURE,
    Close.TOO_BIG: ExitStatus.RUNTIME_FAILURE,
    Close.STAGE_FAILED: ExitStatus.RUNTIME_FAILURE,
}


class ServerClosed(Exception):
    """The connection ended: ``code`` is the close code (1006 when it just dropped)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"connection closed ({code}{': ' + reason if reason else ''})")
        self.code = code if code is not None else 1006
        self.reason = reason


def _closed(exc: ConnectionClosed) -> ServerClosed:
    frame = exc.rcvd or exc.sent
    return ServerClosed(frame.code if frame else None, frame.reason if frame else "")


def parse_address(url: str) -> tuple[str, int]:
    """Host name and port of ``ws://HOST:PORT`` (UsageError when it is not one)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError as exc:
        raise UsageError(f"bad server address {url!r}: {exc}") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"bad server address {url!r}: expected ws://HOST:PORT")
    return parts.hostname, port


def resolve(url: str) -> tuple[str, int]:
    """Address and port to dial, resolved here (asyncio would start a resolver thread)."""
    host, port = parse_address(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from None
    return infos[0][4][0], port


class ClientSession:
    """One connection: hello sent, ready received. Reply audio arrives as one message
    ``{"type": "audio", ..., "data": bytes}`` (the header and its binary frame together)."""

    def __init__(self, ws: ClientConnection, ready: dict[str, Any]) -> None:
        self.ws = ws
        self.ready = ready
        self.session_id: str = ready["session_id"]
        self.rate: int = ready["audio"]["rate"]

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        token: str | None = None,
        session_id: str | None = None,
        rate: int = protocol.DEFAULT_RATE,
        open_timeout: float = 10.0,
    ) -> ClientSession:
        host, port = resolve(url)
        try:
            ws = await connect(
                url,
                host=host,
                port=port,
                proxy=None,
                compression=None,
                open_timeout=open_timeout,
                max_size=MAX_MESSAGE_BYTES,
            )
        except (InvalidHandshake, TimeoutError) as exc:
            raise OSError(f"cannot open a WebSocket to {url}: {exc}") from None
        except InvalidURI as exc:
            raise UsageError(f"bad server address {url!r}: {exc}") from None
        try:
            await ws.send(protocol.hello(session_id, token, rate))
            ready = json.loads(await asyncio.wait_for(ws.recv(), open_timeout))
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        except TimeoutError:
            await ws.close()
            raise OSError(f"{url}: no answer to hello") from None
        return cls(ws, ready)

    async def send_json(self, message: dict[str, Any]) -> None:
        await self._guard(self.ws.send(json.dumps(message)))

    async def send_text(self, text: str) -> None:
        await self.send_json({"type": "text", "text": text})

    async def send_audio(self, pcm: bytes) -> None:
        await self._guard(self.ws.send(pcm))

    async def end(self) -> None:
        await self.send_json({"type": "end"})

    async def receive(self, timeout: float | None = None) -> dict[str, Any]:
        """The next server message (JSON), with reply audio attached as ``data``."""
        raw = await self._guard(asyncio.wait_for(self.ws.recv(), timeout))
        if isinstance(raw, bytes):
            return {"type": "binary", "data": raw}  # only if the server broke the pairing
        message = json.loads(raw)
        if message.get("type") == "audio":
            message["data"] = await self._guard(asyncio.wait_for(self.ws.recv(), timeout))
        return message

    async def until(self, kind: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Every message up to and including the first of type ``kind``."""
        deadline = time.monotonic() + timeout
        messages = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind!r} within {timeout} s; got {_types(messages)}")
            messages.append(await self.receive(left))
            if messages[-1]["type"] == kind:
                return messages

    async def close(self) -> None:
        await self.ws.close()

    async def _guard(self, awaitable):
        try:
            return await awaitable
        except ConnectionClosed as exc:
            raise _closed(exc) from None


def _types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


# -- voicecli connect --------------------------------------------------------------------------
@dataclass
class StreamOptions:
    url: str
    token: str | None = None
    rate: int = protocol.DEFAULT_RATE
    attempts: int = 10
    backoff_s: tuple[float, float] = (1.0, 30.0)
    frame_ms: int = 20
    texts: list[str] = field(default_factory=list)


class Streamer:
    """Stream one input to the server until ``done``; reconnect and resume when dropped.

    ``chunks`` yields s16le PCM at ``options.rate`` (None: no audio), sent in real time when
    ``realtime``, or a control message (a dict: ``interrupt``), sent in its place in the stream;
    ``on_message`` receives every server message (audio with its ``data``)."""

    def __init__(
        self,
        options: StreamOptions,
        chunks: AsyncIterator[bytes | dict] | None,
        on_message: Callable[[dict[str, Any]], None],
        on_status: Callable[[str], None],
        realtime: bool = True,
    ) -> None:
        self.options = options
        self.chunks = chunks
        self.realtime = realtime
        self.on_message = on_message
        self.on_status = on_status
        self.session_id: str | None = None
        self._unsent: bytes | None = None  # the chunk whose send failed
        self._texts = list(options.texts)
        self._audio_done = chunks is None

    async def run(self) -> ExitStatus:
        failures = 0
        while True:
            try:
                client = await ClientSession.open(
                    self.options.url,
                    token=self.options.token,
                    session_id=self.session_id,
                    rate=self.options.rate,
                )
                failures = 0
                self._connected(client)
                return await self._converse(client)
            except ServerClosed as exc:
                if exc.code in FINAL_CLOSES:
                    self.on_status(f"the server closed the connection: {exc}")
                    return FINAL_CLOSES[exc.code]
                problem = str(exc)
            except OSError as exc:
                problem = str(exc) or type(exc).__name__
            failures += 1
            if failures > self.options.attempts:
                self.on_status(f"giving up after {self.options.attempts} attempts: {problem}")
                return ExitStatus.RUNTIME_FAILURE
            start, ceiling = self.options.backoff_s
            delay = min(ceiling, start * 2 ** (failures - 1))
            attempts = self.options.attempts
            self.on_status(f"{problem}; reconnecting in {delay:g} s ({failures}/{attempts})")
            await asyncio.sleep(delay)

    def _connected(self, client: ClientSession) -> None:
        ready = client.ready
        if self.session_id and not ready["resumed"]:
            self.on_status("the server no longer had our session: a new one starts")
        self.session_id = client.session_id
        self.on_message(ready)

    async def _converse(self, client: ClientSession) -> ExitStatus:
        """Send and receive until ``done``. A failing input (the microphone's thread) ends the
        run with its error; a closed connection surfaces from the receiving side."""
        sender = asyncio.create_task(self._send(client))
        receiver = asyncio.create_task(self._receive(client))
        try:
            pending = {sender, receiver}
            while receiver in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                error = sender.exception() if sender in done else None
                if error is not None and not isinstance(error, ServerClosed):
                    raise error
            return receiver.result()
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
            await client.ws.close()

    async def _receive(self, client: ClientSession) -> ExitStatus:
        while True:
            message = await client.receive()
            self.on_message(message)
            if message["type"] == "done":
                await client.close()
                return ExitStatus.OK

    async def _send(self, client: ClientSession) -> None:
        """Audio from where we were, then the typed turns, then ``end`` (sent again after a
        reconnect: the open turn of a dropped connection is gone with it)."""
        start, sent_s = time.monotonic(), 0.0  # real-time pacing restarts on each connection
        while not self._audio_done:
            chunk = self._unsent
            if chunk is None:
                chunk = await anext(self.chunks, None)
                if chunk is None:
                    self._audio_done = True
                    break
            self._unsent = chunk
            if isinstance(chunk, dict):  # a control message the input put in the stream
                await client.send_json(chunk)
                self._unsent = None
                continue
            if self.realtime:  # sent once it has been "recorded", as a microphone would
                sent_s += len(chunk) / 2 / self.options.rate
                await asyncio.sleep(max(0.0, start + sent_s - time.monotonic()))
            await client.send_audio(chunk)
            self._unsent = None
        while self._texts:
            await client.send_text(self._texts[0])
            self._texts.pop(0)
        await client.end()


async def pcm_chunks(pcm: bytes, rate: int, frame_ms: int) -> AsyncIterator[bytes]:
    """``pcm`` cut into frames of ``frame_ms`` (the Streamer paces them)."""
    step = rate * frame_ms // 1000 * 2
    for offset in range(0, len(pcm), step):
        yield pcm[offset : offset + step]


async def pipe_chunks(reader: asyncio.StreamReader, rate: int, frame_ms: int):
    """Raw s16le from a pipe, passed on as it comes (the writer sets the pace)."""
    step = rate * frame_ms // 1000 * 2
    while True:
        try:
            chunk = await reader.readexactly(step)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                yield exc.partial[: len(exc.partial) // 2 * 2]
            return
        yield chunk


class LiveChunks:
    """The frames a live source's thread (the microphone) puts on ``frames``, as s16le; the
    source sets the pace. The queue is polled, so the thread never waits on the event loop,
    and a cancelled wait (a dropped connection) loses nothing: streaming goes on after the
    reconnect. A failed source raises its error; a stopped one ends the input. A dict put
    between the frames (the client's barge-in: ``interrupt``) is passed on as it is."""

    def __init__(self, frames: queue.Queue, source: ManagedThread, poll_s: float = 0.01):
        self.frames = frames
        self.source = source
        self.poll_s = poll_s

    def __aiter__(self) -> LiveChunks:
        return self

    async def __anext__(self) -> bytes | dict:
        while True:
            try:
                frame = self.frames.get_nowait()
            except queue.Empty:
                self.source.raise_if_failed()
                if not self.source.is_alive():
                    raise StopAsyncIteration from None
                await asyncio.sleep(self.poll_s)
                continue
            if isinstance(frame, dict):
                return frame
            return to_int16(frame.samples).astype("<i2").tobytes()
