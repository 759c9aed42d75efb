"""Load benchmark for ``voicecli serve``: N concurrent sessions x M turns -> turn latency.

    python benchmarks/server_load.py [--sessions 1,4,8] [--turns 3] [--mode audio|text]
                                     [--url ws://HOST:PORT] [--token T] [--json] [--voice V]
                                     [--tts-nice N]

Without ``--url`` it starts a server in this process (models loaded once, a free port on
127.0.0.1, ``--max-sessions`` = the largest session count). Each session is a real WebSocket
client. A turn is an arithmetic question ("what is 7 times 9?"), spoken (espeak-ng, streamed
in real time in 20 ms frames, 1.5 s of silence after it) or typed. Latency is measured by the
client: from the end of the question's speech (the last speech frame sent; for a typed turn,
the text sent) to the first reply audio received. "wrong" counts misheard questions (the reply
lacks the product: a transcription error); "errors" counts failures: no reply audio, error
events, dropped connections, timeouts. "eos p50" is the server's own end of speech ->
transcript (``turn_metrics.eos_to_transcript_ms``), "stt p50" its STT compute time. The first
count (1 session by default) is the baseline of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field

from voicecli.audio.file import to_int16
from voicecli.reply.synth import compose, speak
from voicecli.server.client import ClientSession, ServerClosed

NUMBERS = ["three", "five", "six", "seven", "eight", "nine", "eleven", "twelve"]
VALUES = dict(zip(NUMBERS, [3, 5, 6, 7, 8, 9, 11, 12], strict=True))  # no "two"/"four": to/for
LEAD_S, TAIL_S, FRAME_MS = 0.3, 1.5, 20


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    stt_ms: list[float] = field(default_factory=list)
    eos_ms: list[float] = field(default_factory=list)  # end of speech -> transcript (server)
    wrong: list[str] = field(default_factory=list)  # misheard: a transcription error, not a failure
    errors: list[str] = field(default_factory=list)  # no reply, error events, drops, timeouts


def questions(count: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    pairs = [(rng.choice(NUMBERS), rng.choice(NUMBERS)) for _ in range(count)]
    return [(f"What is {a} times {b}?", VALUES[a] * VALUES[b]) for a, b in pairs]


def spoken(question: str) -> tuple[bytes, float]:
    """The question as s16le at 16 kHz, and when its speech ends (seconds from the start)."""
    audio = compose(LEAD_S, question, TAIL_S)
    speech_end_s = LEAD_S + len(speak(question)) / 16000
    return to_int16(audio).astype("<i2").tobytes(), speech_end_s


async def one_turn(client: ClientSession, question: str, answer: int, mode: str, result: Result):
    sender = None
    if mode == "text":
        eos = time.monotonic()
        await client.send_text(question)
    else:
        pcm, speech_end_s = spoken(question)
        eos = time.monotonic() + speech_end_s
        sender = asyncio.create_task(stream(client, pcm))  # the reply is read meanwhile
    first_audio = None
    while True:
        message = await client.receive(timeout=120)
        kind = message["type"]
        if kind == "audio" and first_audio is None:
            first_audio = time.monotonic()
        elif kind == "error":
            result.errors.append(f"error event: {message['code']}: {message['message']}")
        elif kind == "reply" and message["final"]:
            if str(answer) not in re.sub(r"[,.]", "", message["text"]):
                result.wrong.append(f"{question!r} answered {message['text']!r}")
        elif kind == "turn_metrics":
            if message.get("stt_compute_ms") is not None:
                result.stt_ms.append(message["stt_compute_ms"])
            if message.get("eos_to_transcript_ms") is not None:
                result.eos_ms.append(message["eos_to_transcript_ms"])
            break
    if sender is not None:
        await sender
    if first_audio is None:
        result.errors.append(f"{question!r}: no reply audio")
    else:
        result.latencies_ms.append((first_audio - eos) * 1000)


async def stream(client: ClientSession, pcm: bytes) -> None:
    """Real time, in 20 ms frames, each sent once it has been "recorded"."""
    step = 16000 * FRAME_MS // 1000 * 2
    started = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), step)):
        await asyncio.sleep(max(0.0, started + (index + 1) * FRAME_MS / 1000 - time.monotonic()))
        await client.send_audio(pcm[offset : offset + step])


async def session(url: str, token: str | None, turns, mode: str, result: Result) -> None:
    try:
        client = await ClientSession.open(url, token=token)
    except (ServerClosed, OSError) as exc:
        result.errors.append(f"connect: {exc}")
        return
    try:
        for question, answer in turns:
            await one_turn(client, question, answer, mode, result)
    except (ServerClosed, TimeoutError) as exc:
        result.errors.append(f"session: {exc!r}")
    finally:
        await client.close()


async def load(url: str, token: str | None, sessions: int, turns: int, mode: str, seed: int):
    result = Result()
    plans = [questions(turns, seed + n) for n in range(sessions)]
    started = time.monotonic()
    await asyncio.gather(*(session(url, token, plan, mode, result) for plan in plans))
    return result, time.monotonic() - started


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(sessions: int, turns: int, result: Result, elapsed: float) -> dict:
    lat = result.latencies_ms
    return {
        "sessions": sessions,
        "turns": sessions * turns,
        "answered": len(lat),
        "wrong": len(result.wrong),
        "errors": len(result.errors),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p95_ms": round(percentile(lat, 95), 1) if lat else None,
        "max_ms": round(max(lat), 1) if lat else None,
        "stt_p50_ms": round(statistics.median(result.stt_ms), 1) if result.stt_ms else None,
        "eos_p50_ms": round(statistics.median(result.eos_ms), 1) if result.eos_ms else None,
        "wall_s": round(elapsed, 1),
        "error_samples": result.errors[:3],
        "wrong_samples": result.wrong[:3],
    }


def settle(server) -> None:
    """Let the last round's sessions detach before the next round counts its places."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server is not None and server.stats()["live"] == 0:
            return
        time.sleep(0.1 if server is not None else 1.0)
        if server is None:
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,4,8", help="comma-separated session counts")
    parser.add_argument("--turns", type=int, default=3, help="turns per session")
    parser.add_argument("--mode", choices=("audio", "text"), default="audio")
    parser.add_argument("--url", help="an already running server (default: start one here)")
    parser.add_argument("--token")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    parser.add_argument("--voice", help="the server's TTS voice (default: the configured one)")
    parser.add_argument("--tts-nice", type=int, help="the server's tts.nice (Piper's niceness)")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    server = None
    url = args.url
    if url is None:
        from voicecli.core.config import Config
        from voicecli.pipeline.pipeline import Engines
        from voicecli.server.app import ServerOptions, VoiceServer

        config = Config()
        config.tts.voice = args.voice or config.tts.voice
        if args.tts_nice is not None:
            config.tts.nice = args.tts_nice
        server = VoiceServer(
            ServerOptions(port=0, max_sessions=max(counts), token=args.token),
            Engines.load(config),
        ).start()
        url = server.url
    try:
        for count in counts:  # make the speech now, not while the clock runs
            for n in range(count):
                for question, _ in questions(args.turns, args.seed + n):
                    spoken(question)
        asyncio.run(load(url, args.token, 1, 1, "text", args.seed))  # warm-up, not counted
        settle(server)
        if not args.json:
            print(f"{args.mode} turns against {url}")
            print(
                "sessions  turns  answered  wrong  errors  p50 ms  p95 ms  max ms  stt p50"
                "  eos p50  wall s"
            )
        for count in counts:
            result, elapsed = asyncio.run(
                load(url, args.token, count, args.turns, args.mode, args.seed)
            )
            row = summary(count, args.turns, result, elapsed)
            settle(server)
            if args.json:
                print(json.dumps(row))
            else:
                print(
                    f"{row['sessions']:>8}  {row['turns']:>5}  {row['answered']:>8}  "
                    f"{row['wrong']:>5}  {row['errors']:>6}  {row['p50_ms']!s:>6}  "
                    f"{row['p95_ms']!s:>6}  {row['max_ms']!s:>6}  {row['stt_p50_ms']!s:>7}  "
                    f"{row['eos_p50_ms']!s:>7}  {row['wall_s']:>6}"
                )
                for sample in row["error_samples"]:
                    print(f"          error: {sample}")
                for sample in row["wrong_samples"]:
                    print(f"          misheard: {sample}")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
