"""One connection's outgoing messages: a bounded queue drained by one sender task.

Why: a client that reads slowly must not stall its pipeline, the shared TTS or anyone else.
Producers never wait: past the bounds, reply audio (then events) are dropped and counted, and
the client gets a ``warning`` event with the count as soon as there is room again. Protocol
messages (ready, done, reset_done, audio_stop, error replies) are never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from websockets.exceptions import ConnectionClosed

from voicecli.core.events import WarningEvent

MAX_EVENTS = 1000  # queued JSON events
MAX_AUDIO_BYTES = 2 * 2**20  # queued reply audio (about a minute at 16 kHz)


@dataclass(frozen=True)
class Item:
    text: str
    data: bytes | None = None  # the binary frame sent right after ``text`` (reply audio)
    droppable: bool = True


class Outbox:
    def __init__(self, max_events: int = MAX_EVENTS, max_audio_bytes: int = MAX_AUDIO_BYTES):
        self.max_events = max_events
        self.max_audio_bytes = max_audio_bytes
        self._items: deque[Item] = deque()
        self._wake = asyncio.Event()
        self._events = 0
        self._audio_bytes = 0
        self._unreported = {"audio": 0, "events": 0}
        self.dropped_audio = 0  # totals, for logs and tests
        self.dropped_events = 0

    def __len__(self) -> int:
        return len(self._items)

    def has_audio(self) -> bool:
        return self._audio_bytes > 0

    def _push(self, item: Item) -> None:
        self._items.append(item)
        if item.data is not None:
            self._audio_bytes += len(item.data)
        elif item.droppable:
            self._events += 1
        self._wake.set()

    def _report_drops(self) -> None:
        for kind, what in (("audio", "reply audio chunks"), ("events", "events")):
            count = self._unreported[kind]
            if count:
                self._unreported[kind] = 0
                message = f"{count} {what} dropped: the client reads too slowly"
                warning = WarningEvent(code=f"{kind}_dropped", message=message, count=count)
                self._push(Item(warning.to_json(), droppable=False))

    def put_control(self, text: str) -> None:
        self._report_drops()
        self._push(Item(text, droppable=False))

    def put_event(self, text: str) -> bool:
        if self._events >= self.max_events:
            self._unreported["events"] += 1
            self.dropped_events += 1
            return False
        self._report_drops()
        self._push(Item(text))
        return True

    def put_audio(self, header: str, data: bytes) -> bool:
        if self._audio_bytes + len(data) > self.max_audio_bytes:
            self._unreported["audio"] += 1
            self.dropped_audio += 1
            return False
        self._report_drops()
        self._push(Item(header, data))
        return True

    def purge_audio(self) -> int:
        """Forget queued reply audio (interrupt, barge-in); returns how many chunks."""
        kept = deque(item for item in self._items if item.data is None)
        purged = len(self._items) - len(kept)
        self._items = kept
        self._audio_bytes = 0
        return purged

    async def get(self) -> Item:
        while not self._items:
            self._wake.clear()
            await self._wake.wait()
        item = self._items.popleft()
        if item.data is not None:
            self._audio_bytes -= len(item.data)
        elif item.droppable:
            self._events -= 1
        return item

    async def drained(self, timeout: float) -> bool:
        """Wait until everything queued was handed to the socket (or ``timeout``)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._items:
                    await asyncio.sleep(0.01)
        return not self._items


async def pump(
    outbox: Outbox, ws, lock: asyncio.Lock, on_audio: Callable[[int], None] | None = None
) -> None:
    """The connection's only writer: sends each item (an audio header and its frame together,
    under ``lock``) until the socket closes."""
    try:
        while True:
            item = await outbox.get()
            async with lock:
                await ws.send(item.text)
                if item.data is not None:
                    await ws.send(item.data)
            if item.data is not None and on_audio is not None:
                on_audio(len(item.data))
    except ConnectionClosed:
        return
