"""A small OpenAI-compatible chat server on loopback, and helpers to converse through it.

It speaks HTTP/1.1 with chunked server-sent events (llama.cpp server, Ollama) or, with
``FakeLlm(http10=True)``, HTTP/1.0 whose event stream ends when the server closes the
connection (what Python's own ``http.server`` does).
"""

from __future__ import annotations

import http.server
import json
import select
import socket
import threading
import time
from collections.abc import Callable

import numpy as np

from voicecli.audio.sink import AudioSink
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.core.lifecycle import ManagedThread
from voicecli.pipeline.pipeline import Engines, Pipeline
from voicecli.reply.llm import make_brain

# -- the fake server ---------------------------------------------------------------------------


class FakeLlm(http.server.HTTPServer):
    """One ManagedThread accepts, one ManagedThread per connection answers."""

    def __init__(self, http10: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Http10Handler if http10 else _Handler)
        self.timeout = 0.05
        self.scripts: list[Callable] = []
        self.requests: list[dict] = []
        self.headers_seen: list[dict] = []
        self.log: list[tuple[float, str]] = []
        self.stopping = threading.Event()
        self._connections: list[ManagedThread] = []
        self._accept = ManagedThread("fake-llm", self._serve)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def note(self, what: str) -> None:
        self.log.append((time.monotonic(), what))

    def when(self, what: str) -> float:
        return next(t for t, w in self.log if w == what)

    def _serve(self, thread: ManagedThread) -> None:
        while not thread.should_stop():
            self.handle_request()

    def process_request(self, request, client_address) -> None:
        def handle(_thread: ManagedThread) -> None:
            try:
                self.finish_request(request, client_address)
            except OSError:
                pass  # the client went away
            finally:
                self.shutdown_request(request)

        connection = ManagedThread("fake-llm-connection", handle)
        self._connections.append(connection)
        connection.start()

    def __enter__(self) -> FakeLlm:
        self._accept.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self._accept.stop_and_join()
        for connection in self._connections:
            connection.stop_and_join()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeLlm

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        self.server.headers_seen.append(dict(self.headers))
        self.close_connection = True
        script = self.server.scripts.pop(0) if self.server.scripts else stream("Hello there.")
        script(self)

    # helpers for the scripts
    def start_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, content: str | None = None, finish: str | None = None) -> None:
        delta = {} if content is None else {"content": content}
        payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def end_events(self) -> None:
        self.event(finish="stop")
        self.chunk(b"data: [DONE]\n\n")
        self.chunk(b"")
        self.server.note("done")

    def pause(self, seconds: float, keep_alive: bool = True) -> None:
        """Wait, writing keep-alive comments (which do not count as a token) or nothing;
        a client that closes the connection meanwhile is noted."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.server.stopping.is_set():
            try:
                if keep_alive:
                    self.chunk(b": keep-alive\n\n")
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    raise ConnectionResetError("end of stream")
            except OSError:
                self.server.note("client gone")
                raise


class _Http10Handler(_Handler):
    """HTTP/1.0: no chunked encoding; the body (the event stream) ends when the socket closes."""

    protocol_version = "HTTP/1.0"

    def start_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        if data:  # chunked encoding's empty last chunk has no HTTP/1.0 counterpart
            self.wfile.write(data)
            self.wfile.flush()


def stream(
    *pieces: str, gap: float = 0.0, first_delay: float = 0.0, keep_alive: bool = True
) -> Callable:
    def script(handler: _Handler) -> None:
        handler.start_events()
        handler.event()  # the role-only first chunk real servers send
        handler.pause(first_delay, keep_alive)
        for i, piece in enumerate(pieces):
            if i:
                handler.pause(gap, keep_alive)
            handler.event(piece)
            handler.server.note(f"sent {i}")
        handler.end_events()

    return script


def http_error(status: int, message: str) -> Callable:
    def script(handler: _Handler) -> None:
        body = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return script


def hang_up_after(*pieces: str) -> Callable:
    def script(handler: _Handler) -> None:
        handler.start_events()
        for piece in pieces:
            handler.event(piece)
        handler.pause(0.1)
        handler.connection.shutdown(socket.SHUT_RDWR)  # mid-stream, no [DONE]

    return script


# -- the pipeline under test -------------------------------------------------------------------


class RecordingTts:
    """The real TTS, noting each text it is asked to say and when."""

    def __init__(self, tts) -> None:
        self.tts = tts
        self.said: list[tuple[float, str]] = []
        self.engines: list[str] = []  # the engine that spoke each text
        self.done: list[float] = []  # when each synthesis ended

    def synthesize(self, text: str) -> np.ndarray:
        self.said.append((time.monotonic(), text))
        self.engines.append(self.tts.engine)
        pcm = self.tts.synthesize(text)
        self.done.append(time.monotonic())
        return pcm

    @property
    def engine(self) -> str:
        return self.tts.engine

    def apply_thermal(self, protection) -> None:
        self.tts.apply_thermal(protection)


class CountingSink(AudioSink):
    def __init__(self) -> None:
        self.writes: list[float] = []
        self.audio: list[np.ndarray] = []
        self.on_write: Callable[[], None] | None = None  # called after each write

    def write(self, pcm: np.ndarray) -> None:
        self.writes.append(time.monotonic())
        self.audio.append(pcm)
        if self.on_write:
            self.on_write()


def llm_config(server: FakeLlm, **llm) -> Config:
    config = Config()
    config.llm.url = server.url
    config.llm.model = "fake"
    for key, value in llm.items():
        setattr(config.llm, key, value)
    return config


class Conversation:
    """A typed conversation through a real pipeline (no STT needed)."""

    def __init__(self, engines: Engines, config: Config, thermal=None) -> None:
        self.tts = RecordingTts(engines.tts)
        self.sink = CountingSink()
        self.bus = EventBus()
        self.events_sub = self.bus.subscribe(100_000, "test")
        self.events: list = []
        self.brain = make_brain(config)
        self.pipeline = Pipeline(
            config=config,
            engines=Engines(stt=engines.stt, tts=self.tts),
            source=None,
            bus=self.bus,
            sink=self.sink,
            brain=self.brain,
            system_interval_s=None,
            thermal=thermal,
        )

    def __enter__(self) -> Conversation:
        self.pipeline.start()
        return self

    def __exit__(self, *exc_info) -> None:
        assert self.pipeline.close(), "pipeline threads did not stop"
        self.brain.close()

    def wait_for(self, kind: str, timeout: float = 20.0, **match):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for event in self.events:
                if event.type == kind and all(getattr(event, k) == v for k, v in match.items()):
                    return event
            event = self.events_sub.get(timeout=0.02)
            if event is not None:
                self.events.append(event)
        raise AssertionError(f"no {kind} {match} within {timeout} s: {self.events}")

    def ask(self, text: str, timeout: float = 20.0):
        """Type ``text``; return the final reply once it is complete."""
        turn = self.pipeline.submit_text(text)
        return self.wait_for("reply", timeout, turn=turn.number, final=True)

    def of(self, kind: str, **match) -> list:
        return [
            e
            for e in self.events
            if e.type == kind and all(getattr(e, k) == v for k, v in match.items())
        ]


# -- tests -------------------------------------------------------------------------------------
