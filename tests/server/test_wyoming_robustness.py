"""What a bad or broken Wyoming client cannot do: crash the server, take its memory, hold a slot
forever, or keep others from being served."""

from __future__ import annotations

import asyncio
import json
import os

import numpy as np
import pytest
from support.server import run
from support.wyoming import as_pcm, client, transcribe, transcript_text
from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe

from voicecli.audio.file import load_audio
from voicecli.core.errors import UsageError
from voicecli.server.wyoming import WyomingOptions


async def raw_exchange(server, data: bytes) -> list[Event]:
    """Send raw bytes; every event until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    await writer.drain()
    events = []
    while (event := await async_read_event(reader)) is not None:
        events.append(event)
    writer.close()
    return events


async def still_serving(server) -> bool:
    async with client(server) as conn:
        await conn.write_event(Describe().event())
        event = await conn.read_event()
    return event is not None and event.type == "info"


async def wait_no_handlers(server, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while server.handlers:
            await asyncio.sleep(0.02)


BAD_LINES = {
    "not_json": (b"this is not json\n", "bad_event"),
    "empty_object": (b"{}\n", "bad_event"),
    "array": (b"[]\n", "bad_event"),
    "negative_length": (b'{"type": "audio-chunk", "payload_length": -5}\n', "bad_event"),
    "text_length": (b'{"type": "audio-chunk", "data_length": "12"}\n', "bad_event"),
    "bad_data": (b'{"type": "transcribe", "data_length": 5}\n[1,2]', "bad_event"),
    "missing_field": (b'{"type": "transcript", "data": {}}\n', "bad_event"),
    "oversized_payload": (b'{"type": "audio-chunk", "payload_length": 999999999}\n', "too_large"),
    "oversized_data": (b'{"type": "synthesize", "data_length": 99999999}\n', "too_large"),
    "endless_line": (b'{"type": "' + b"x" * 200_000, "too_large"),
}


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_a_malformed_event_gets_an_error_and_others_are_served(start_wyoming, name):
    server = start_wyoming()
    data, code = BAD_LINES[name]
    events = run(raw_exchange(server, data))
    assert [e.type for e in events] == ["error"], events
    assert Error.from_event(events[0]).code == code
    assert run(still_serving(server))
    run(wait_no_handlers(server))


def test_an_unknown_event_type_is_ignored(start_wyoming):
    server = start_wyoming()

    async def exchange():
        async with client(server) as conn:
            await conn.write_event(Event(type="teleport", data={"to": "mars"}))
            await conn.write_event(Describe().event())
            return await conn.read_event()

    assert run(exchange()).type == "info"


def test_a_client_that_leaves_mid_audio_does_not_disturb_the_next(start_wyoming, shared_audio):
    server = start_wyoming()
    speech = load_audio(shared_audio / "real" / "utterances" / "ps_goforward.flac")
    pcm = as_pcm(np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000, np.float32)]))

    async def leave_mid_audio():
        async with client(server) as conn:
            await conn.write_event(Transcribe().event())
            await conn.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            for offset in range(0, len(pcm) // 2, 2048):
                chunk = AudioChunk(
                    rate=16000, width=2, channels=1, audio=pcm[offset : offset + 2048]
                )
                await conn.write_event(chunk.event())

    for _ in range(3):
        run(leave_mid_audio())
    assert "forward" in transcript_text(run(transcribe(server, pcm))).lower()
    run(wait_no_handlers(server))


def test_unsupported_audio_gets_an_error(start_wyoming):
    server = start_wyoming()

    async def exchange():
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        await async_write_event(
            AudioChunk(rate=16000, width=3, channels=1, audio=b"\0" * 6).event(), writer
        )
        event = await async_read_event(reader)
        writer.close()
        return event

    event = run(exchange())
    assert event.type == "error" and Error.from_event(event).code == "bad_audio"
    assert run(still_serving(server))


def test_connections_beyond_the_limit_are_refused_and_idle_ones_closed(start_wyoming):
    server = start_wyoming(max_connections=2, idle_timeout_s=1.0)

    async def scenario():
        held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        await asyncio.sleep(0.2)
        refused = await raw_exchange(server, json.dumps({"type": "describe"}).encode() + b"\n")
        idle = [await async_read_event(reader) for reader, _writer in held]  # after 1 s
        for _reader, writer in held:
            writer.close()
        return refused, idle

    refused, idle = run(scenario())
    assert [Error.from_event(e).code for e in refused] == ["busy"]
    assert [Error.from_event(e).code for e in idle] == ["idle", "idle"]
    run(wait_no_handlers(server))
    assert run(still_serving(server))


def test_a_refused_client_gets_the_error_even_while_it_sends(start_wyoming):
    """Closed with the client's bytes unread, the socket is reset, and the client lost the
    ``busy`` error it had been sent (a CI failure, under load); this client sends 1 MB first."""
    server = start_wyoming(max_connections=1)

    async def scenario():
        _held = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.sleep(0.2)
        return await raw_exchange(server, b"x" * (1 << 20))

    refused = run(scenario())
    assert [Error.from_event(e).code for e in refused] == ["busy"]


def test_lan_bind_needs_allow_lan():
    with pytest.raises(UsageError, match="no authentication"):
        WyomingOptions(uri="tcp://0.0.0.0:10300").validate()
    assert WyomingOptions(uri="tcp://0.0.0.0:10300", allow_lan=True).validate()
    for bad in ("http://127.0.0.1:10300", "tcp://127.0.0.1", "127.0.0.1:10300", "tcp://:99"):
        with pytest.raises(UsageError, match="tcp://HOST:PORT"):
            WyomingOptions(uri=bad).validate()


def test_zeroconf_advertises_the_server_for_home_assistant(start_wyoming):
    from zeroconf import IPVersion
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

    from voicecli.server.wyoming_zeroconf import SERVICE

    name = f"voicecli-test-{os.getpid()}"
    server = start_wyoming(uri="tcp://0.0.0.0:0", allow_lan=True, zeroconf=name)
    assert server.zeroconf_error is None, server.zeroconf_error

    async def discover():
        zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
        try:
            info = AsyncServiceInfo(SERVICE, f"{name}.{SERVICE}")
            assert await info.async_request(zc.zeroconf, 3000), "not discovered"
            return info.port, info.parsed_addresses()
        finally:
            await zc.async_close()

    port, addresses = run(discover())
    assert port == server.port and addresses and "127.0.0.1" not in addresses
    with pytest.raises(UsageError, match="needs a LAN bind"):
        WyomingOptions(uri="tcp://127.0.0.1:10300", zeroconf="voicecli").validate()
