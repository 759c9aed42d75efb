"""The event bus: stages publish, consumers each read their own bounded queue.

Why bounded queues: a slow consumer (a stalled terminal, a slow socket) must never block a
stage. When a subscriber's queue is full its events are dropped and counted; the subscriber
receives one ``warning`` event with the count as soon as it has room again.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

from voicecli.core.events import Event, WarningEvent
from voicecli.core.lifecycle import IDLE_WAIT_S, POLL_S, ManagedThread


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int, name: str) -> None:
        self.bus = bus
        self.name = name
        self.queue: queue.Queue[Event | None] = queue.Queue(maxsize)  # None: ``wake``
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        try:
            if self.dropped:
                self.queue.put_nowait(
                    WarningEvent(
                        code="events_dropped",
                        message=f"{self.dropped} events dropped: consumer '{self.name}' too slow",
                        count=self.dropped,
                    )
                )
                self.dropped = 0
            self.queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def get(self, timeout: float = POLL_S) -> Event | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def wake(self) -> None:
        """Make a waiting ``get`` return None at once (after what is queued)."""
        with contextlib.suppress(queue.Full):  # a full queue wakes its reader anyway
            self.queue.put_nowait(None)

    def close(self) -> None:
        self.bus.unsubscribe(self)


class EventBus:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, maxsize: int = 4096, name: str = "consumer") -> Subscription:
        sub = Subscription(self, maxsize, name)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub._offer(event)


def consume(
    bus: EventBus, handle: Callable[[Event], None], name: str, maxsize: int = 4096
) -> ManagedThread:
    """Start a ManagedThread that passes every event to ``handle`` until stopped; it drains
    what is queued before it ends, so nothing published before ``stop()`` is lost."""
    sub = bus.subscribe(maxsize, name)

    def loop(thread: ManagedThread) -> None:
        thread.on_stop(sub.wake)
        try:
            while True:
                event = sub.get(IDLE_WAIT_S)
                if event is not None:
                    handle(event)
                elif thread.should_stop():
                    return
        finally:
            sub.close()

    return ManagedThread(name, loop).start()
