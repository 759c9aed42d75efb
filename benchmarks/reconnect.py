"""Clients that connect per request: each typed turn on a new WebSocket, as fast as they can.

    python benchmarks/reconnect.py [--clients 1] [--turns 100] [--max-sessions 2] [--resume]

Starts a server in this process (models loaded once, a free port on 127.0.0.1) with
``--max-sessions``; each client opens a connection, sends "what is N plus one", waits for
``done``, closes, and starts again at once (``--resume``: with its session id). Never more
clients than ``--max-sessions`` are connected, so every refusal (1013 "server full") is a slot
that a closed connection still held. Prints refusals and the time per completed turn (open to
close). To measure another checkout, run it with ``PYTHONPATH=that/checkout``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import voicecli
from voicecli.core.config import Config
from voicecli.pipeline.pipeline import Engines
from voicecli.server.app import ServerOptions, VoiceServer
from voicecli.server.client import ClientSession, ServerClosed


async def client(url: str, turns: int, resume: bool) -> tuple[int, list[float]]:
    refused, durations, session_id = 0, [], None
    for n in range(turns):
        started = time.monotonic()
        try:
            session = await ClientSession.open(url, session_id=session_id)
        except ServerClosed:
            refused += 1
            continue
        await session.send_text(f"what is {n} plus one")
        await session.end()
        await session.until("done", 30)
        session_id = session.session_id if resume else None
        await session.close()
        durations.append(time.monotonic() - started)
    return refused, durations


async def run(url: str, clients: int, turns: int, resume: bool) -> tuple[int, list[float]]:
    results = await asyncio.gather(*(client(url, turns, resume) for _ in range(clients)))
    return sum(r for r, _ in results), [d for _, ds in results for d in ds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--turns", type=int, default=100, help="per client")
    parser.add_argument("--max-sessions", type=int, default=2)
    parser.add_argument("--resume", action="store_true", help="resume the session each time")
    args = parser.parse_args()
    options = ServerOptions(port=0, max_sessions=args.max_sessions)
    server = VoiceServer(options, Engines.load(Config())).start()
    try:
        started = time.monotonic()
        refused, durations = asyncio.run(run(server.url, args.clients, args.turns, args.resume))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    attempts = args.clients * args.turns
    p50 = statistics.median(durations) * 1000 if durations else float("nan")
    print(
        f"{voicecli.__file__}: {args.clients} client(s), --max-sessions {args.max_sessions}, "
        f"{'resumed' if args.resume else 'new'} sessions: refused {refused}/{attempts}, "
        f"turn p50 {p50:.0f} ms over {len(durations)}, {elapsed:.1f} s in all"
    )


if __name__ == "__main__":
    main()
