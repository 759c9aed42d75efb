"""The server's building blocks on their own (protocol parsing, session store, outbox), and
the fixtures and helpers the other test_server_* modules import."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from voicecli.audio.file import to_int16
from voicecli.core.events import WarningEvent
from voicecli.reply.synth import compose
from voicecli.server import protocol
from voicecli.server.app import ServerOptions, VoiceServer, is_loopback
from voicecli.server.client import ClientSession
from voicecli.server.outbox import Outbox
from voicecli.server.protocol import BadMessage, Close, HelloRejected
from voicecli.server.session import SessionStore

QUESTION = "What is twelve times eight?"
ANSWER = "12 times 8 is 96."


# -- fixtures and helpers for the server tests -------------------------------------------------
@pytest.fixture(name="start_server")
def start_server_fixture(engines):
    """start_server(**ServerOptions fields, brain=...) -> a running VoiceServer on a free port;
    every server started is stopped (and its threads joined) after the test."""
    servers: list[VoiceServer] = []

    def start(brain=None, **options) -> VoiceServer:
        server = VoiceServer(ServerOptions(port=0, **options), engines, brain=brain).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.stop(), "server threads did not stop"


@pytest.fixture(name="server")
def server_fixture(start_server) -> VoiceServer:
    return start_server()


@pytest.fixture(scope="session", name="question_pcm")
def question_pcm_fixture() -> bytes:
    """'What is twelve times eight?' with silence around it, as s16le at 16 kHz."""
    return pcm_bytes(compose(0.5, QUESTION, 1.5))


def pcm_bytes(audio) -> bytes:
    return to_int16(audio).astype("<i2").tobytes()


def run(coro, timeout: float = 120.0):
    async def bounded():
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


async def open_client(server: VoiceServer, **kwargs) -> ClientSession:
    return await ClientSession.open(server.url, **kwargs)


async def stream(client: ClientSession, pcm: bytes, speed: float = 1.0, frame_ms: int = 20):
    """Send ``pcm`` in frames of ``frame_ms``, each when it would have been recorded
    (``speed`` > 1 sends faster than real time)."""
    step = client.rate * frame_ms // 1000 * 2
    start = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), step)):
        due = start + (index + 1) * frame_ms / 1000 / speed
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await client.send_audio(pcm[offset : offset + step])


async def converse(
    client: ClientSession,
    pcm: bytes | None = None,
    texts: tuple[str, ...] = (),
    speed: float = 1.0,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Stream ``pcm``, send ``texts``, then ``end``; every message up to ``done``."""

    async def send():
        if pcm:
            await stream(client, pcm, speed)
        for text in texts:
            await client.send_text(text)
        await client.end()

    sender = asyncio.create_task(send())
    try:
        return await client.until("done", timeout)
    finally:
        await sender


def of(messages: list[dict[str, Any]], kind: str, **match) -> list[dict[str, Any]]:
    return [
        m for m in messages if m["type"] == kind and all(m.get(k) == v for k, v in match.items())
    ]


def index_of(messages: list[dict[str, Any]], kind: str, **match) -> int:
    return messages.index(of(messages, kind, **match)[0])


def final_replies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in of(messages, "reply", final=True)]


# -- protocol ----------------------------------------------------------------------------------
def test_a_well_formed_hello_is_parsed_with_its_defaults():
    hello = protocol.parse_hello(protocol.hello())
    assert (hello.version, hello.session_id, hello.token, hello.rate) == (1, None, None, 16000)
    full = protocol.parse_hello(protocol.hello("abc", "secret", 48000))
    assert (full.session_id, full.token, full.rate) == ("abc", "secret", 48000)
    minimal = protocol.parse_hello(json.dumps({"type": "hello", "version": 1}))
    assert minimal.rate == protocol.DEFAULT_RATE


@pytest.mark.parametrize(
    ("raw", "close"),
    [
        (b"\x00\x01", Close.BAD_HELLO),
        ("not json", Close.BAD_HELLO),
        ("[1, 2]", Close.BAD_HELLO),
        (json.dumps({"type": "text", "text": "hi"}), Close.BAD_HELLO),
        (json.dumps({"type": "hello"}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": "1"}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 2}), Close.BAD_VERSION),
        (json.dumps({"type": "hello", "version": 1, "session_id": 5}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 1, "token": ["x"]}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 1, "audio": "16k"}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 1, "audio": {"rate": 12345}}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 1, "audio": {"rate": 16000.0}}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 1, "audio": {"channels": 2}}), Close.BAD_HELLO),
        (json.dumps({"type": "hello", "version": 1, "audio": {"format": "f32le"}}), 4400),
    ],
)
def test_a_bad_hello_is_rejected_with_its_close_code(raw, close):
    with pytest.raises(HelloRejected) as caught:
        protocol.parse_hello(raw)
    assert caught.value.close == close
    assert caught.value.reason


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{oops", "bad_json"),
        ('"text"', "bad_message"),
        ("{}", "bad_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "text"}', "bad_message"),
        ('{"type": "text", "text": 42}', "bad_message"),
        ('{"type": "text", "text": "   "}', "bad_message"),
        (json.dumps({"type": "text", "text": "x" * 2001}), "bad_message"),
        (protocol.hello(), "unexpected_hello"),
    ],
)
def test_a_bad_message_after_ready_gets_an_error_code(raw, code):
    with pytest.raises(BadMessage) as caught:
        protocol.parse_message(raw)
    assert caught.value.code == code


def test_every_client_message_type_parses():
    assert protocol.parse_message('{"type": "text", "text": " hi "}').text == "hi"
    for kind in ("interrupt", "reset", "end"):
        assert protocol.parse_message(json.dumps({"type": kind})).type == kind


def test_only_loopback_addresses_count_as_local():
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.org"]))


# -- sessions ----------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_detached_session_is_kept_for_the_ttl_then_forgotten():
    clock = FakeClock()
    store = SessionStore(ttl_s=300, max_kept=10, clock=clock)
    session = store.create("tok")
    store.attach(session, connection="c1")
    assert store.live_count() == 1
    store.detach(session, "c1")
    clock.now += 299
    assert store.find(session.id, "tok") is session
    clock.now += 2
    assert store.find(session.id, "tok") is None
    assert len(store) == 0


def test_a_session_id_only_works_with_the_token_that_created_it():
    store = SessionStore(ttl_s=300, max_kept=10)
    session = store.create("alice")
    assert store.find(session.id, "alice") is session
    assert store.find(session.id, "bob") is None
    assert store.find(session.id, None) is None
    assert store.find("no-such-id", "alice") is None
    anonymous = store.create(None)
    assert store.find(anonymous.id, None) is anonymous
    assert store.find(anonymous.id, "") is None


def test_a_detach_by_a_replaced_connection_does_not_detach_the_new_one():
    store = SessionStore(ttl_s=300, max_kept=10)
    session = store.create(None)
    store.attach(session, "old")
    store.attach(session, "new")
    store.detach(session, "old")
    assert session.connection == "new"


def test_the_longest_detached_sessions_are_evicted_beyond_the_cap():
    clock = FakeClock()
    store = SessionStore(ttl_s=300, max_kept=3, clock=clock)
    sessions = []
    for name in "abc":
        session = store.create(None)
        store.attach(session, name)
        store.detach(session, name)
        clock.now += 1
        sessions.append(session)
    newest = store.create(None)
    assert store.find(sessions[0].id, None) is None  # the oldest went
    assert store.find(sessions[2].id, None) is sessions[2]
    assert store.find(newest.id, None) is newest


# -- outbox ------------------------------------------------------------------------------------
def test_the_outbox_drops_audio_beyond_its_bound_and_reports_the_count():
    async def scenario():
        outbox = Outbox(max_events=10, max_audio_bytes=100)
        assert outbox.put_audio("h1", b"x" * 60)
        assert not outbox.put_audio("h2", b"x" * 60)
        assert not outbox.put_audio("h3", b"x" * 60)
        assert (await outbox.get()).text == "h1"
        assert outbox.put_audio("h4", b"x" * 60)
        warning = json.loads((await outbox.get()).text)
        assert warning["type"] == WarningEvent.type
        assert (warning["code"], warning["count"]) == ("audio_dropped", 2)
        assert (await outbox.get()).text == "h4"
        assert outbox.dropped_audio == 2

    run(scenario())


def test_the_outbox_never_drops_protocol_messages_and_purges_audio_on_request():
    async def scenario():
        outbox = Outbox(max_events=1, max_audio_bytes=10)
        assert outbox.put_event("e1")
        assert not outbox.put_event("e2")
        for _ in range(5):
            outbox.put_control("control")
        outbox.put_audio("h", b"12345678")
        assert outbox.has_audio()
        assert outbox.purge_audio() == 1
        assert not outbox.has_audio()
        texts = [(await outbox.get()).text for _ in range(len(outbox))]
        warning = json.loads(texts[1])  # reported before the next message that fitted
        assert (warning["code"], warning["count"]) == ("events_dropped", 1)
        assert texts == ["e1", texts[1]] + ["control"] * 5

    run(scenario())
