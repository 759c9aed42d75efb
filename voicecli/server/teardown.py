"""Pipelines of closed connections that are still stopping: counted, capped, awaited at the end.

Why apart from the slots: ``--max-sessions`` counts connected clients, so a closed connection
frees its slot at once and its pipeline's threads end in the background (each within the
connection's stop timeout). Clients that connect per request would otherwise be told "server
full" while their previous pipeline was still being joined. The cap keeps a burst of closed
connections from piling up pipelines: a new pipeline waits while ``cap`` are still stopping, and
a resumed session waits for its own previous pipeline (the two would share one conversation).
Used from the event loop thread only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

log = logging.getLogger(__name__)


class Teardowns:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._tasks: dict[asyncio.Task, str] = {}  # task -> the session whose pipeline it joins

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, session_id: str, join: Coroutine) -> asyncio.Task:
        task = asyncio.create_task(join)
        self._tasks[task] = session_id
        task.add_done_callback(self._tasks.pop)
        return task

    async def room(self, session_id: str) -> None:
        """Return once this session has no pipeline stopping and fewer than ``cap`` are."""
        while own := [t for t, s in self._tasks.items() if s == session_id]:
            await asyncio.wait(own)
        if len(self._tasks) >= self.cap:
            log.info(
                "session %s waits: %d pipelines still tearing down (cap %d)",
                session_id,
                len(self._tasks),
                self.cap,
            )
        while len(self._tasks) >= self.cap:
            await asyncio.wait(list(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Wait for every pipeline still stopping (at server shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))
