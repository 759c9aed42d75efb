"""A worker thread that runs blocking calls for an asyncio loop, one at a time.

Why: speech synthesis and a brain's reply (an LLM) block; run in the event loop they would
stall every other connection. ``asyncio.to_thread`` would leave executor threads behind that
are no ManagedThread; this one is, and ``stop`` joins it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import Callable
from typing import Any

from voicecli.core.lifecycle import POLL_S, ManagedThread


class CallWorker:
    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._thread = ManagedThread(name, self._loop)

    def start(self) -> CallWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        return self._thread.stop_and_join(timeout)

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the worker thread; its result (or exception) here."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((loop, future, fn, args))
        return await future

    def _loop(self, thread: ManagedThread) -> None:
        while not thread.should_stop():
            try:
                loop, future, fn, args = self._jobs.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if future.cancelled():
                continue
            try:
                outcome, value = "result", fn(*args)
            except Exception as exc:  # the caller gets it, the worker goes on
                outcome, value = "exception", exc
            _settle(loop, future, outcome, value)


def _settle(loop: asyncio.AbstractEventLoop, future: asyncio.Future, outcome: str, value) -> None:
    def settle() -> None:
        if not future.done():
            getattr(future, f"set_{outcome}")(value)

    call_in_loop(loop, settle)


def call_in_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], None]) -> None:
    """``fn()`` on ``loop``'s thread soon; nothing if the loop has closed (nobody waits)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn)
