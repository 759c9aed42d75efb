"""Single keys from the terminal, read with a timeout so no thread is ever held by ``read``.

Why cbreak and select: the dashboard's keys (q, m, t, space) act without Enter, and the key
thread must notice ``stop()`` within 100 ms. Ctrl-C still raises SIGINT (cbreak keeps ISIG).
The terminal's mode is restored on exit, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import tty
from collections.abc import Callable, Iterator

from voicecli.core.lifecycle import POLL_S, ManagedThread


def stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def cbreak(fd: int) -> Iterator[None]:
    """Keys arrive one by one, unechoed; the previous mode comes back on exit."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def read_keys(fd: int, timeout: float = POLL_S) -> str:
    """The keys typed so far (an escape sequence or a paste arrives whole), "" after
    ``timeout``."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return ""
    return os.read(fd, 256).decode("utf-8", errors="replace")


def split_keys(text: str) -> list[str]:
    """Single characters, except that an escape sequence stays one key."""
    if text.startswith("\x1b"):
        return [text]
    return list(text)


def key_thread(on_key: Callable[[str], None], fd: int | None = None) -> ManagedThread:
    """A ManagedThread passing every key to ``on_key`` (in cbreak mode) until stopped."""
    fd = sys.stdin.fileno() if fd is None else fd

    def loop(thread: ManagedThread) -> None:
        with cbreak(fd):
            while not thread.should_stop():
                for key in split_keys(read_keys(fd)):
                    on_key(key)

    return ManagedThread("keys", loop)
