"""Fixtures and helpers for the server tests: a real voicecli server on 127.0.0.1, the real
client, and ways to read what came back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from voicecli.audio.file import to_int16
from voicecli.server.app import VoiceServer
from voicecli.server.client import ClientSession

QUESTION = "What is twelve times eight?"
ANSWER = "12 times 8 is 96."


# -- fixtures and helpers for the server tests -------------------------------------------------
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
