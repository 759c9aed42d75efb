"""The OpenAI-compatible backend's own time limits and interrupt, against both kinds of loopback
server (HTTP/1.1 chunked, HTTP/1.0 close-delimited): no pipeline, so the times measured are the
client's. Targets: an interrupt wakes a blocked read within 100 ms (the tests allow 500 ms)."""

from __future__ import annotations

import socket
import statistics
import threading
import time

import pytest
from support.fake_llm import FakeLlm, stream

from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.brain import ReplyControl, ReplyFailed
from voicecli.reply.llm.openai_compat import OpenAICompatBackend

pytestmark = pytest.mark.llm
QUESTION = [{"role": "user", "content": "Count slowly."}]


@pytest.fixture(name="llm_server", params=["http11-chunked", "http10-close-delimited"])
def llm_server_fixture(request):
    with FakeLlm(http10=request.param.startswith("http10")) as server:
        yield server


class Reader:
    """Reads one streamed reply in its own thread, as the responder does."""

    def __init__(self, backend: OpenAICompatBackend) -> None:
        self.control = ReplyControl()
        self.deltas: list[str] = []
        self.failure: ReplyFailed | None = None
        self.first = threading.Event()
        self.started = time.monotonic()
        self.ended: float | None = None
        self._thread = ManagedThread("test-llm-reader", self._read, backend)

    def _read(self, _thread: ManagedThread, backend: OpenAICompatBackend) -> None:
        try:
            for delta in backend.stream(QUESTION, self.control):
                self.deltas.append(delta)
                self.first.set()
        except ReplyFailed as exc:
            self.failure = exc
        finally:
            self.ended = time.monotonic()

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        assert self._thread.join(10), "the reader did not end"

    def wait(self) -> float:
        """Seconds from the request to the end of the stream."""
        assert self._thread.join(10), "the reader did not end"
        return self.ended - self.started


def backend(server: FakeLlm, **options) -> OpenAICompatBackend:
    return OpenAICompatBackend(server.url, model="fake", **options)


def silent_then(seconds: float):
    """Say nothing at all (not even headers) for ``seconds``."""

    def script(handler) -> None:
        handler.pause(seconds, keep_alive=False)

    return script


@pytest.mark.parametrize("where", ["mid-answer", "before-headers"])
def test_an_interrupt_wakes_a_blocked_read_at_once(llm_server, where):
    client = backend(llm_server)
    woke = []
    for _ in range(10):
        if where == "mid-answer":
            llm_server.scripts.append(stream("One. ", "Two.", gap=5.0, keep_alive=False))
        else:
            llm_server.scripts.append(silent_then(5.0))
        with Reader(client) as reader:
            if where == "mid-answer":
                assert reader.first.wait(5)
            time.sleep(0.2)  # the reader is now blocked in a read
            cut = time.monotonic()
            reader.control.cancel()
            reader.wait()
        woke.append(reader.ended - cut)
        assert reader.failure is None  # an interrupt is quiet
        assert reader.deltas == (["One. "] if where == "mid-answer" else [])
    client.close()
    print(
        f"interrupt wake-up ({where}): median {statistics.median(woke) * 1000:.1f} ms, "
        f"max {max(woke) * 1000:.1f} ms over {len(woke)}"
    )
    assert max(woke) < 0.5


def test_keep_alive_comments_do_not_reset_the_first_token_deadline(llm_server):
    def keep_alive_late(handler) -> None:
        handler.start_events()
        handler.pause(0.4, keep_alive=False)
        handler.chunk(b": keep-alive\n\n")  # a per-read timeout would restart here
        handler.pause(3.0, keep_alive=False)

    llm_server.scripts += [keep_alive_late, stream("Too late.", first_delay=3.0)]
    client = backend(llm_server, first_token_timeout_s=0.5)
    waited = []
    for _ in range(2):
        with Reader(client) as reader:
            waited.append(reader.wait())
        assert reader.failure is not None and reader.failure.code == "llm_timeout"
        assert "no first token" in str(reader.failure)
    client.close()
    print(f"first-token deadline 0.5 s: ended after {[round(w, 3) for w in waited]} s")
    assert all(0.5 <= w < 0.85 for w in waited)  # not 0.4 + 0.5, not the server's 3 s


def test_a_pause_mid_answer_is_capped_but_keep_alives_carry_it(llm_server):
    llm_server.scripts += [
        stream("One. ", "Two.", gap=3.0, keep_alive=False),
        stream("One. ", "Two.", gap=1.0, keep_alive=True),
    ]
    client = backend(llm_server, first_token_timeout_s=0.5)
    with Reader(client) as stalled:
        stalled.wait()
    with Reader(client) as carried:
        carried.wait()
    client.close()
    assert stalled.deltas == ["One. "]
    assert stalled.failure.code == "llm_timeout" and "stalled" in str(stalled.failure)
    assert stalled.ended - stalled.started < 2.0  # 0.5 s after the first token, not 3 s
    assert carried.failure is None and carried.deltas == ["One. ", "Two."]


def test_failures_are_not_retried(llm_server):
    def hang_up_at_once(handler) -> None:
        handler.connection.shutdown(socket.SHUT_RDWR)  # no status line at all

    llm_server.scripts += [hang_up_at_once, stream("Fine.")]
    client = backend(llm_server)
    with Reader(client) as broken:
        broken.wait()
    assert broken.failure.code == "llm_disconnected"
    assert len(llm_server.requests) == 1  # one attempt: the next script is still queued
    with Reader(client) as fine:
        fine.wait()
    client.close()
    assert fine.deltas == ["Fine."] and len(llm_server.requests) == 2


def test_the_connect_timeout_bounds_a_server_that_never_accepts():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):  # fill the accept queue: later SYNs are dropped, connects hang
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        client = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1", connect_timeout_s=0.3)
        with Reader(client) as reader:
            waited = reader.wait()
        client.close()
        for filler in fillers:
            filler.close()
    assert reader.failure.code == "llm_unreachable" and "0.3 s" in str(reader.failure)
    assert 0.3 <= waited < 1.5
