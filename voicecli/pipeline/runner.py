"""Run a pipeline in the foreground: print its events, honour SIGINT/SIGTERM, pick the exit code.

Why here and not in each command: chat, bench and the server's tests all need the same
shutdown: stop every thread, drain the printer, and exit 130 on Ctrl-C, 143 on SIGTERM,
6 after a fatal stage error.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

from voicecli.core.bus import consume
from voicecli.core.errors import ExitStatus
from voicecli.core.events import Event
from voicecli.core.lifecycle import IDLE_WAIT_S
from voicecli.pipeline.pipeline import Pipeline


@contextlib.contextmanager
def signals_caught(wake: threading.Event | None = None) -> Iterator[threading.Event]:
    """While inside, SIGINT/SIGTERM set the yielded event (with ``.signum``), and ``wake``,
    instead of raising."""
    caught = threading.Event()
    caught.signum = None  # type: ignore[attr-defined]

    def handler(signum, _frame) -> None:
        caught.signum = signum  # type: ignore[attr-defined]
        caught.set()
        if wake is not None:
            wake.set()

    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_foreground(
    pipeline: Pipeline,
    handle: Callable[[Event], None],
    quit_requested: threading.Event | None = None,
) -> ExitStatus:
    """Run until the input ends, a signal arrives or ``quit_requested`` is set (the ``q`` key:
    exit 0). All three set ``quit_requested``: the main thread sleeps on it, not polling."""
    printer = consume(pipeline.bus, handle, "printer", maxsize=100_000)
    quit_requested = quit_requested or threading.Event()
    with signals_caught(quit_requested) as caught:
        pipeline.on_done(quit_requested.set)
        pipeline.start()
        try:
            while not quit_requested.wait(IDLE_WAIT_S):
                pass
        finally:
            pipeline.close()
            printer.stop_and_join()
    if caught.is_set():
        return ExitStatus.SIGTERM if caught.signum == signal.SIGTERM else ExitStatus.SIGINT
    if pipeline.fatal is not None:
        return ExitStatus.RUNTIME_FAILURE
    return ExitStatus.OK
