"""ManagedThread: the only way voicecli starts a thread.

Why: a voice assistant that leaves a hung thread behind cannot be stopped with Ctrl-C. Every
thread is stoppable through one Event: its loop checks it at least every 100 ms, or -- where it
waits on its own queue, event or condition for longer, because waking 10 times a second in 8
idle threads costs a sleeping assistant 0.7 % of a core -- registers ``on_stop`` to be woken at
once. Errors in the target are kept and surfaced (never swallowed); a registry lets tests
assert that nothing is left alive after shutdown.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: How often a loop must check ``should_stop()`` (seconds); waits use this as their timeout.
POLL_S = 0.1
#: The timeout of a wait that ``on_stop`` wakes (a safety net: the wake-up is what ends it).
IDLE_WAIT_S = 1.0

_registry: weakref.WeakSet[ManagedThread] = weakref.WeakSet()
_registry_lock = threading.Lock()


class ManagedThread:
    """A named thread with a stop flag, error capture and a bounded join.

    The target is called as ``target(thread, *args)`` so that it can poll
    ``thread.should_stop()`` or wait with ``thread.wait(seconds)``.
    """

    def __init__(
        self,
        name: str,
        target: Callable[..., Any],
        *args: Any,
        on_error: Callable[[ManagedThread, BaseException], None] | None = None,
        daemon: bool = True,
    ) -> None:
        self.name = name
        self._target = target
        self._args = args
        self._on_error = on_error
        self._stop_event = threading.Event()
        self._stop_hooks: list[Callable[[], None]] = []
        self._hooks_lock = threading.Lock()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"voicecli-{name}", daemon=daemon)
        with _registry_lock:
            _registry.add(self)

    # -- control -------------------------------------------------------------------------
    def start(self) -> ManagedThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to stop. Idempotent, callable from any thread."""
        with self._hooks_lock:
            self._stop_event.set()
            hooks = list(self._stop_hooks)
        for hook in hooks:
            hook()

    def on_stop(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (quick, never blocking) when stop is asked -- at once if it already
        was -- so a loop blocked on its own queue or event ends without polling."""
        with self._hooks_lock:
            stopped = self._stop_event.is_set()
            if not stopped:
                self._stop_hooks.append(wake)
        if stopped:
            wake()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` but wake at once on stop; True when stop was requested."""
        return self._stop_event.wait(seconds)

    def join(self, timeout: float = 5.0) -> bool:
        """Wait for the thread to end; False (and a log line) when it did not in ``timeout``."""
        if self._thread.ident is None:  # never started
            return True
        if self._thread is threading.current_thread():
            return False
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("thread %s did not stop within %.1f s", self.name, timeout)
            return False
        return True

    def stop_and_join(self, timeout: float = 5.0) -> bool:
        self.stop()
        return self.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def raise_if_failed(self) -> None:
        """Re-raise the target's exception in the caller, if there was one."""
        if self.error is not None:
            raise self.error

    # -- internals -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._target(self, *self._args)
        except BaseException as exc:  # noqa: BLE001 - kept and surfaced, not swallowed
            self.error = exc
            log.error("thread %s failed: %r", self.name, exc, exc_info=exc)
            if self._on_error is not None:
                try:
                    self._on_error(self, exc)
                except Exception:  # pragma: no cover - a failing error handler is only logged
                    log.exception("error handler of thread %s failed", self.name)

    def __enter__(self) -> ManagedThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_and_join()

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else "stopped"
        return f"<ManagedThread {self.name} {state}>"


def alive_threads() -> list[ManagedThread]:
    """Every ManagedThread still running (tests assert this is empty after shutdown)."""
    with _registry_lock:
        return [t for t in _registry if t.is_alive()]


def stop_all(timeout: float = 5.0) -> list[ManagedThread]:
    """Stop every live ManagedThread; returns those that did not end in time."""
    threads = alive_threads()
    for thread in threads:
        thread.stop()
    return [t for t in threads if not t.join(timeout)]
