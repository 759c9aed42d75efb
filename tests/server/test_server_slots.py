"""``--max-sessions`` counts connected clients: a closed connection frees its slot at once, even
while its pipeline is still being torn down (as clients that connect per request need)."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest
from support.server import final_replies, open_client, run

from voicecli.server.client import ServerClosed


@pytest.mark.parametrize(
    ("resume", "turns"),
    [(False, 100), (True, 30)],  # a resume also waits for its own previous pipeline to stop
    ids=["new-session", "resumed-session"],
)
def test_a_client_that_reconnects_for_every_turn_is_never_refused(
    start_server, caplog, resume, turns
):
    server = start_server(max_sessions=2)
    caplog.set_level(logging.INFO, logger="voicecli.server")

    async def scenario():
        refused, wrong, session_id = [], [], None
        started = time.monotonic()
        for n in range(turns):
            try:
                client = await open_client(server, session_id=session_id)
            except ServerClosed as exc:
                refused.append((n, exc.code))
                continue
            await client.send_text(f"what is {n} plus one")
            await client.end()
            replies = final_replies(await client.until("done", 30))
            if replies != [f"{n} plus 1 is {n + 1}."]:
                wrong.append((n, replies))
            if resume:
                session_id = client.session_id
            await client.close()
        elapsed = time.monotonic() - started
        for _ in range(250):  # the last connection is detached, its pipeline joined
            if not any(server.stats()[k] for k in ("live", "tearing_down")):
                break
            await asyncio.sleep(0.02)
        return refused, wrong, elapsed

    refused, wrong, elapsed = run(scenario())
    kind = "resumed" if resume else "new"
    per_turn = elapsed / turns * 1000
    print(f"{turns} reconnecting turns ({kind} sessions): {elapsed:.2f} s, {per_turn:.0f} ms/turn")
    assert refused == []
    assert wrong == []
    stats = server.stats()
    assert stats["live"] == 0 and stats["tearing_down"] == 0
    detached = [r.getMessage() for r in caplog.records if "detached" in r.getMessage()]
    assert len(detached) == turns
    stopping = [int(re.search(r"(\d+) tearing down", line)[1]) for line in detached]
    print(f"pipelines still tearing down when a connection was detached: max {max(stopping)}")
    assert 1 <= max(stopping) <= 2  # its own count in the logs, capped at --max-sessions
