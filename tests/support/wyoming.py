"""Helpers for the Wyoming tests: the package's own client against a real server."""

from __future__ import annotations

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from voicecli.audio.file import resample


def client(server) -> AsyncTcpClient:
    return AsyncTcpClient("127.0.0.1", server.port)


def as_pcm(audio: np.ndarray, rate: int = 16000, channels: int = 1) -> bytes:
    """16 kHz mono float32 -> interleaved s16le at ``rate`` with ``channels`` channels."""
    audio = resample(audio, 16000, rate) if rate != 16000 else audio
    samples = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    return np.repeat(samples, channels).tobytes()


async def read_until(conn: AsyncTcpClient, last_type: str) -> list[Event]:
    """Events up to and including the first one of ``last_type``."""
    events = []
    while True:
        event = await conn.read_event()
        assert event is not None, f"connection closed before {last_type}: {events}"
        events.append(event)
        if event.type == last_type:
            return events


async def transcribe(
    server, pcm: bytes, rate: int = 16000, channels: int = 1, chunk_s: float = 0.064
) -> list[Event]:
    """transcribe + audio-start + chunks + audio-stop; the events up to transcript-stop."""
    async with client(server) as conn:
        await conn.write_event(Transcribe(language="en").event())
        fmt = dict(rate=rate, width=2, channels=channels)
        await conn.write_event(AudioStart(**fmt).event())
        step = round(chunk_s * rate) * 2 * channels
        for offset in range(0, len(pcm), step):
            await conn.write_event(AudioChunk(audio=pcm[offset : offset + step], **fmt).event())
        await conn.write_event(AudioStop().event())
        return await read_until(conn, "transcript-stop")


def transcript_text(events: list[Event]) -> str:
    return next(Transcript.from_event(e).text for e in events if Transcript.is_type(e.type))
