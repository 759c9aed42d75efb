"""Bad input, auth, dead peers and slow readers: each answered as specified, and a good session
on the same server never notices."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time

import pytest
from support.cli import NO_TOKEN, voicecli
from support.server import (
    ANSWER,
    converse,
    final_replies,
    of,
    open_client,
    run,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from voicecli.core.errors import ExitStatus
from voicecli.server import protocol
from voicecli.server.client import ServerClosed
from voicecli.server.protocol import MAX_MESSAGE_BYTES, Close


async def close_code_after(server, *messages, wait: float = 5.0) -> int:
    """Send ``messages`` on a raw connection; the close code the server answers with."""
    async with connect(server.url, proxy=None, max_size=None) as ws:
        try:
            for message in messages:
                await ws.send(message)
            async with asyncio.timeout(wait):
                while True:
                    await ws.recv()
        except ConnectionClosed:
            pass
        return ws.close_code


HELLO = {"type": "hello", "version": 1}
PRE_READY = [
    ("binary before hello", [b"\x00\x01\x02\x03"], Close.BAD_HELLO),
    ("text before hello", [json.dumps({"type": "text", "text": "hi"})], Close.BAD_HELLO),
    ("not JSON", ["hello?"], Close.BAD_HELLO),
    ("hello without version", [json.dumps({"type": "hello"})], Close.BAD_HELLO),
    ("unsupported rate", [json.dumps({**HELLO, "audio": {"rate": 1234}})], Close.BAD_HELLO),
    ("stereo", [json.dumps({**HELLO, "audio": {"channels": 2}})], Close.BAD_HELLO),
    ("version 2", [json.dumps({**HELLO, "version": 2})], Close.BAD_VERSION),
    ("frame over 1 MiB", [b"\x00" * (MAX_MESSAGE_BYTES + 2)], Close.TOO_BIG),
    ("frame over 1 MiB after ready", [protocol.hello(), b"\x00" * (2**20 + 2)], Close.TOO_BIG),
]
AFTER_READY = [
    ("{not json", "bad_json"),
    ('["a", "list"]', "bad_message"),
    ('{"no": "type"}', "bad_message"),
    ('{"type": "sing"}', "unknown_type"),
    ('{"type": "text"}', "bad_message"),
    ('{"type": "text", "text": ""}', "bad_message"),
    (protocol.hello(), "unexpected_hello"),
    (b"\x01\x02\x03", "bad_audio"),
]


def test_every_bad_input_is_answered_as_specified_and_a_good_session_is_unaffected(
    start_server, question_pcm
):
    server = start_server(hello_timeout_s=0.5)

    async def bad_client():
        codes = {}
        for name, messages, _ in PRE_READY:
            codes[name] = await close_code_after(server, *messages)
        codes["silence instead of hello"] = await close_code_after(server, wait=3.0)
        client = await open_client(server)
        errors = []
        for raw in [raw for raw, _ in AFTER_READY]:
            if isinstance(raw, bytes):
                await client.send_audio(raw)
            else:
                await client.ws.send(raw)
            errors.append(await client.until("error", timeout=5))
        still = await converse(client, texts=("what is seven plus one",))
        await client.close()
        return codes, errors, still

    async def scenario():
        good = await open_client(server)
        results = await asyncio.gather(bad_client(), converse(good, question_pcm, speed=1.0))
        await good.close()
        return results

    (codes, errors, still), good_turn = run(scenario())
    expected = {name: close for name, _, close in PRE_READY}
    expected["silence instead of hello"] = Close.BAD_HELLO
    assert codes == expected
    for (raw, code), messages in zip(AFTER_READY, errors, strict=True):
        error = messages[-1]
        assert (error["code"], error["fatal"]) == (code, False), raw
        assert error["message"]
    assert final_replies(still) == ["7 plus 1 is 8."]  # the bad connection goes on
    assert final_replies(good_turn) == [ANSWER]  # and the good one never noticed
    assert not of(good_turn, "error")


def test_a_server_with_a_token_says_4401_to_a_missing_or_wrong_token(start_server):
    server = start_server(token="s3cret")

    async def scenario():
        codes = []
        for token in (None, "wrong", ""):
            with pytest.raises(ServerClosed) as closed:
                await open_client(server, token=token)
            codes.append(closed.value.code)
        client = await open_client(server, token="s3cret")
        turn = await converse(client, texts=("what is two plus two",))
        await client.close()
        return codes, turn

    codes, turn = run(scenario())
    assert codes == [Close.UNAUTHORIZED] * 3
    assert final_replies(turn) == ["2 plus 2 is 4."]


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_binding_beyond_loopback_without_a_token_is_refused_with_exit_2(host):
    done = voicecli("serve", "--host", host, "--port", "0", env=NO_TOKEN, timeout=60)
    assert done.returncode == ExitStatus.USAGE
    assert "without a token" in done.stderr
    assert "Traceback" not in done.stderr


def _masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    mask = os.urandom(4)
    header = bytes([0x80 | opcode])
    size = len(payload)
    header += bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _raw_handshake(port: int) -> socket.socket:
    """A TCP client that completes the WebSocket handshake and says hello, by hand."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)  # byte by byte: nothing after the headers is read
    assert response.startswith(b"HTTP/1.1 101")
    sock.sendall(_masked_frame(protocol.hello().encode()))
    return sock


def test_a_peer_that_stops_reading_is_dropped_within_ping_interval_plus_timeout(start_server):
    interval, timeout = 0.3, 0.3
    server = start_server(ping_interval_s=interval, ping_timeout_s=timeout)
    sock = _raw_handshake(server.port)
    try:
        started = time.monotonic()
        deadline = started + 10
        while server.stats()["live"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.stats()["live"] == 1, "the raw client never became a session"
        while server.stats()["live"] == 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        dropped_after = time.monotonic() - started
    finally:
        sock.close()
    print(
        f"silent peer dropped after {dropped_after:.2f} s (interval+timeout {interval + timeout})"
    )
    assert server.stats()["live"] == 0, "the silent peer was never dropped"
    assert dropped_after < 5 * (interval + timeout)


def test_a_slow_reader_loses_reply_audio_not_the_others_turns(start_server):
    server = start_server(outbox_audio_bytes=64 * 1024)

    async def scenario():
        slow = await open_client(server, rate=48000)
        good = await open_client(server)
        for _ in range(20):  # the long fallback answer, ~6 s of audio at 48 kHz each
            await slow.send_text("please sing me a song")
        await slow.end()
        await asyncio.sleep(2.0)  # the slow client reads nothing meanwhile
        started = time.monotonic()
        turn = await converse(good, texts=("what is four plus four",))
        good_s = time.monotonic() - started
        late = await slow.until("done", timeout=60)  # now it reads
        dropped = server.stats()["dropped_audio"]  # final: `done` follows the last drop warning
        await asyncio.gather(slow.close(), good.close())
        return turn, good_s, dropped, late

    turn, good_s, dropped, late = run(scenario())
    print(f"good client's turn took {good_s * 1000:.0f} ms beside a slow reader")
    assert final_replies(turn) == ["4 plus 4 is 8."]
    assert good_s < 5.0
    assert dropped > 0
    warnings = of(late, "warning", code="audio_dropped")
    assert warnings and sum(w["count"] for w in warnings) == dropped
    seqs = [m["seq"] for m in of(late, "audio")]
    assert seqs == sorted(seqs) and seqs[-1] - seqs[0] + 1 > len(seqs)  # the gaps show drops
    assert len(final_replies(late)) == 20  # events were not dropped
