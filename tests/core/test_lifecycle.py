"""ManagedThread: the contract every thread of voicecli follows."""

from __future__ import annotations

import queue
import statistics
import threading
import time

import pytest

from voicecli.core.lifecycle import POLL_S, ManagedThread, alive_threads, stop_all


def _loop(thread: ManagedThread) -> None:
    while not thread.should_stop():
        time.sleep(POLL_S / 2)


def test_stop_is_honoured_promptly():
    delays = []
    for _ in range(10):
        thread = ManagedThread("loop", _loop).start()
        time.sleep(0.05)
        start = time.perf_counter()
        thread.stop()
        assert thread.join(timeout=5.0)
        delays.append(time.perf_counter() - start)
    print(f"stop->joined median {statistics.median(delays) * 1000:.1f} ms")
    assert statistics.median(delays) < 0.5
    assert not alive_threads()


def test_stop_is_idempotent_and_wait_wakes_on_stop():
    woke = threading.Event()

    def sleeper(thread):
        if thread.wait(30):
            woke.set()

    thread = ManagedThread("sleeper", sleeper).start()
    start = time.perf_counter()
    thread.stop()
    thread.stop()
    assert thread.join(5.0)
    assert woke.is_set()
    assert time.perf_counter() - start < 0.5


def test_join_timeout_returns_false_and_logs(caplog):
    release = threading.Event()

    def stubborn(thread):
        release.wait(5)

    thread = ManagedThread("stubborn", stubborn).start()
    assert thread.join(timeout=0.1) is False
    assert "did not stop" in caplog.text
    release.set()
    assert thread.join(5.0)


def test_exception_is_kept_surfaced_and_reported():
    seen = []

    def boom(thread):
        raise ValueError("broken stage")

    thread = ManagedThread("boom", boom, on_error=lambda t, e: seen.append((t.name, e))).start()
    assert thread.join(5.0)
    assert isinstance(thread.error, ValueError)
    assert seen and seen[0][0] == "boom"
    with pytest.raises(ValueError, match="broken stage"):
        thread.raise_if_failed()


def test_context_manager_starts_stops_and_joins():
    with ManagedThread("ctx", _loop) as thread:
        assert thread.is_alive()
    assert not thread.is_alive()


def test_registry_and_stop_all():
    threads = [ManagedThread(f"t{i}", _loop).start() for i in range(3)]
    assert set(threads) <= set(alive_threads())
    assert stop_all(timeout=5.0) == []
    assert not alive_threads()


def test_join_of_a_never_started_thread_is_true():
    assert ManagedThread("idle", _loop).join(0.1)


def test_on_stop_wakes_a_loop_blocked_on_its_own_queue():
    """A loop that waits on its own queue far longer than POLL_S still stops at once."""
    inbox: queue.Queue[str | None] = queue.Queue()
    seen = []

    def consumer(thread):
        thread.on_stop(lambda: inbox.put_nowait(None))
        while not thread.should_stop():
            item = inbox.get(timeout=30)
            if item is not None:
                seen.append(item)

    thread = ManagedThread("consumer", consumer).start()
    inbox.put("hello")
    time.sleep(0.1)
    start = time.perf_counter()
    thread.stop()
    assert thread.join(5.0)
    assert time.perf_counter() - start < 1.0
    assert seen == ["hello"]
    late = []
    thread.on_stop(lambda: late.append(True))  # already stopped: called at once
    assert late == [True]
