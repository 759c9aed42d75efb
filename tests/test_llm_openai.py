"""The OpenAI-compatible backend against a small streaming server on 127.0.0.1.

The server speaks HTTP/1.1 with chunked server-sent events, like llama.cpp server and Ollama;
each request follows the next script queued by the test (stream, wait, fail, hang up).
Replies go through a real pipeline with the real TTS; a recording TTS notes what was said
and when.
"""

from __future__ import annotations

import http.server
import itertools
import json
import select
import socket
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from voicecli.audio.sink import AudioSink
from voicecli.core.bus import EventBus
from voicecli.core.config import Config, load_config
from voicecli.core.lifecycle import ManagedThread
from voicecli.pipeline.pipeline import Engines, Pipeline
from voicecli.reply.llm import make_brain
from voicecli.reply.llm.backend import SPOKEN
from voicecli.reply.llm.composite import history_window

# -- the fake server ---------------------------------------------------------------------------


class FakeLlm(http.server.HTTPServer):
    """One ManagedThread accepts, one ManagedThread per connection answers."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
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

    def synthesize(self, text: str) -> np.ndarray:
        self.said.append((time.monotonic(), text))
        return self.tts.synthesize(text)


class CountingSink(AudioSink):
    def __init__(self) -> None:
        self.writes: list[float] = []

    def write(self, pcm: np.ndarray) -> None:
        self.writes.append(time.monotonic())


def llm_config(server: FakeLlm, **llm) -> Config:
    config = Config()
    config.llm.url = server.url
    config.llm.model = "fake"
    for key, value in llm.items():
        setattr(config.llm, key, value)
    return config


class Conversation:
    """A typed conversation through a real pipeline (no STT needed)."""

    def __init__(self, engines: Engines, config: Config) -> None:
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


def test_sentences_reach_tts_in_order_while_the_stream_is_still_running(engines):
    sentences = ["The moon is bright tonight.", "It is full.", "Enjoy the view!"]
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        server.scripts.append(stream(*[s + " " for s in sentences], gap=0.6))
        reply = chat.ask("Tell me about the moon.")
        metrics = chat.wait_for("turn_metrics", turn=reply.turn)
    said = [text for _, text in chat.tts.said]
    assert said == sentences
    assert reply.text == " ".join(sentences)
    assert [e.text for e in chat.of("reply", final=False)] == sentences
    first_said = chat.tts.said[0][0]
    assert first_said < server.when("sent 1")  # spoken before the second sentence was sent
    assert chat.sink.writes[0] < server.when("done")  # and heard before the stream ended
    assert metrics.first_token_ms is not None and 0 < metrics.first_token_ms < 5000
    assert metrics.reply_ms >= metrics.first_token_ms
    body = server.requests[0]
    assert body["stream"] is True and body["model"] == "fake"
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1] == {"role": "user", "content": "Tell me about the moon."}


def test_a_slow_first_token_is_a_spoken_timeout_and_the_next_turn_works(engines):
    server = FakeLlm()
    with server, Conversation(engines, llm_config(server, first_token_timeout_s=0.5)) as chat:
        server.scripts += [stream("Too late.", first_delay=3.0), stream("Back again.")]
        started = time.monotonic()
        reply = chat.ask("Are you there?")
        waited = time.monotonic() - started
        error = chat.wait_for("error", turn=reply.turn)
        assert reply.text == SPOKEN["llm_timeout"]
        assert error.code == "llm_timeout" and error.fatal is False
        assert 0.5 <= waited < 2.5  # the timeout, not the server's 3 s
        assert chat.ask("Hello?").text == "Back again."
    assert [text for _, text in chat.tts.said] == [SPOKEN["llm_timeout"], "Back again."]


def test_an_http_error_is_explained_and_the_next_turn_works(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        server.scripts += [http_error(500, "model exploded"), stream("Fine now.")]
        reply = chat.ask("What's up?")
        error = chat.wait_for("error", turn=reply.turn)
        assert reply.text == SPOKEN["llm_http_error"]
        assert error.code == "llm_http_error" and not error.fatal
        assert "500" in error.message and "model exploded" in error.message
        assert chat.ask("And now?").text == "Fine now."
        assert not chat.of("error", fatal=True)


def test_a_disconnect_mid_stream_is_explained_and_the_next_turn_works(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        server.scripts += [hang_up_after("First part is fine. ", "Then the"), stream("All good.")]
        reply = chat.ask("Tell me a story.")
        error = chat.wait_for("error", turn=reply.turn)
        assert error.code == "llm_disconnected" and not error.fatal
        said = [text for _, text in chat.tts.said]
        assert said == ["First part is fine.", SPOKEN["llm_disconnected"]]  # no half sentence
        assert chat.ask("Again?").text == "All good."


def test_an_unreachable_server_is_explained(engines):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nobody listens there
    config = Config()
    config.llm.url = f"http://127.0.0.1:{port}/v1"
    with Conversation(engines, config) as chat:
        reply = chat.ask("Hello?")
        error = chat.wait_for("error", turn=reply.turn)
    assert reply.text == SPOKEN["llm_unreachable"] and error.code == "llm_unreachable"


def test_an_interrupt_stops_generation_and_playback_at_once(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        # silent gaps: only the interrupt itself can wake the blocked read
        long_answer = stream("One. ", "Two. ", "Three. ", "Four.", gap=5.0, keep_alive=False)
        server.scripts += [long_answer, stream("Short answer.")]
        turn = chat.pipeline.submit_text("Count slowly.")
        chat.wait_for("playback", turn=turn.number, state="started")
        interrupted_at = time.monotonic()
        assert chat.pipeline.interrupt() is True
        reply = chat.wait_for("reply", turn=turn.number, final=True, timeout=5)
        ended = time.monotonic() - interrupted_at
        cut = chat.wait_for("playback", turn=turn.number, state="cut")
        deadline = time.monotonic() + 3
        while not any(w == "client gone" for _, w in server.log) and time.monotonic() < deadline:
            time.sleep(0.02)
        gone = server.when("client gone") - interrupted_at
        writes_after = [t for t in chat.sink.writes if t > interrupted_at + 0.05]
        assert chat.pipeline.interrupt() is False  # nothing left to interrupt
        assert chat.ask("Next?").text == "Short answer."
    assert reply.text == "One." and cut.state == "cut"
    assert not chat.of("playback", turn=turn.number, state="stopped")
    assert ended < 1.0  # the responder let go at once
    assert gone < 1.0  # the server saw the stream closed: generation stopped
    assert not writes_after  # nothing more reached the sink
    assert not chat.of("error", turn=turn.number)


def test_an_arithmetic_question_never_reaches_the_llm(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        assert chat.ask("What is twelve times eight?").text == "12 times 8 is 96."
        assert server.requests == []
        server.scripts.append(stream("It is a nice number."))
        assert chat.ask("Is that a nice number?").text == "It is a nice number."
    messages = server.requests[0]["messages"]
    assert messages[1:] == [  # this conversation's history came along
        {"role": "user", "content": "What is twelve times eight?"},
        {"role": "assistant", "content": "12 times 8 is 96."},
        {"role": "user", "content": "Is that a nice number?"},
    ]


def test_history_is_bounded_and_the_api_key_comes_from_the_environment(engines, tmp_path):
    with FakeLlm() as server:
        loaded = load_config(
            {"llm.url": server.url, "llm.max_history_turns": 1},
            env={"VOICECLI_LLM_API_KEY": "sk-test-123"},
            path=tmp_path / "none.toml",
        )
        with Conversation(engines, loaded.config) as chat:
            for n in range(3):
                server.scripts.append(stream(f"Answer {n}."))
                chat.ask(f"Question {n}?")
    last = server.requests[-1]["messages"]
    assert [m["content"] for m in last[1:]] == ["Question 1?", "Answer 1.", "Question 2?"]
    assert "model" not in server.requests[0]  # none configured: the server's own
    assert all(h.get("Authorization") == "Bearer sk-test-123" for h in server.headers_seen)


def test_markdown_from_the_llm_is_shown_as_written_and_spoken_sensibly(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        server.scripts.append(stream("**Paris** is lovely 😀. ", "See https://www.paris.fr/en."))
        reply = chat.ask("Tell me about Paris.")
    assert reply.text == "**Paris** is lovely 😀. See https://www.paris.fr/en."
    assert [text for _, text in chat.tts.said] == ["Paris is lovely.", "See paris.fr."]


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "localhost:11434", "http://:80/v1"])
def test_a_bad_url_is_a_usage_error(url):
    from voicecli.core.errors import UsageError

    config = Config()
    config.llm.url = url
    with pytest.raises(UsageError, match="not an http"):
        make_brain(config)


def test_the_history_window_is_bounded_and_mostly_appends():
    windows = [history_window(list(range(n)), 6) for n in range(20)]
    assert all(len(w) <= 6 for w in windows) and windows[6] == list(range(6))
    assert all(w[-1] == n - 1 for n, w in enumerate(windows) if n)  # always the latest
    appends = [len(a) <= len(b) and b[: len(a)] == a for a, b in itertools.pairwise(windows)]
    assert appends.count(False) <= len(appends) // 3  # the prompt's start rarely changes
