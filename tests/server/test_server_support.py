"""The server's building blocks on their own: protocol parsing, session store, outbox."""

from __future__ import annotations

import json

import pytest
from support.server import (
    run,
)

from voicecli.core.events import WarningEvent
from voicecli.server import protocol
from voicecli.server.app import is_loopback
from voicecli.server.outbox import Outbox
from voicecli.server.protocol import BadMessage, Close, HelloRejected
from voicecli.server.session import SessionStore


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
