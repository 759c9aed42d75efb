"""How ``voicecli chat`` shows itself: the Rich dashboard in a terminal, lines otherwise.

Why: the dashboard needs a terminal on stdout; ``--plain`` (or stdout not a terminal) prints
readable lines, ``--json`` prints every event. Keys are read whenever stdin is a terminal.
Every way out (q, Ctrl-C, SIGTERM, the input ending) goes through ``run_foreground``, which
stops every thread; the key thread and the dashboard restore the terminal after it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator

from voicecli.cli.controls import Controls
from voicecli.cli.keys import key_thread, stdin_is_terminal
from voicecli.cli.printer import JsonPrinter, PlainPrinter, format_plain
from voicecli.core.errors import ExitStatus
from voicecli.core.messages import KEY, Interrupt
from voicecli.pipeline.runner import run_foreground


def stdout_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def keys_read(controls: Controls) -> Iterator[None]:
    if not stdin_is_terminal():
        yield
        return
    thread = key_thread(controls.on_key).start()
    try:
        yield
    finally:
        thread.stop_and_join()


def chat_controls(pipeline, audio, typing_allowed: bool) -> Controls:
    """The keys of ``chat``: ``s`` interrupts the pipeline like every other "stop"."""
    return Controls(
        submit_text=pipeline.submit_text,
        mic=audio.source if audio is not None else None,
        hush=lambda: pipeline.interrupt(Interrupt(KEY)),
        typing_allowed=typing_allowed,
    )


def run_chat(pipeline, audio, *, json_: bool, plain: bool) -> ExitStatus:
    """Run the conversation in the foreground; returns the exit status."""
    dashboard = not json_ and not plain and stdout_is_terminal()
    controls = chat_controls(pipeline, audio, typing_allowed=dashboard)
    if not dashboard:
        printer = JsonPrinter() if json_ else with_thermal_lines(PlainPrinter(), pipeline.thermal)
        with keys_read(controls):
            return run_foreground(pipeline, printer, controls.quit)

    from voicecli.cli.dashboard import Dashboard

    lines: list[str] = []
    title = pipeline.source.name if pipeline.source else ""
    screen = Dashboard(controls, title=title, monitor=pipeline.thermal)

    def handle(event) -> None:
        screen.handle(event)
        line = format_plain(event) or _thermal_line(event, pipeline.thermal)
        if line is not None:
            lines.append(line)

    with stderr_held() as held, screen.shown(), keys_read(controls):
        status = run_foreground(pipeline, handle, controls.quit)
    for line in lines:  # the conversation stays readable once the screen is gone
        print(line)
    sys.stderr.write(held.read())
    return status


NOISE = "underrun occurred"  # alsa-lib prints this on every output underrun: not shown


@contextlib.contextmanager
def stderr_held() -> Iterator:
    """While the dashboard owns the screen, what is written on stderr (log lines, alsa-lib's
    messages) goes to a temporary file; it is shown after the screen is restored."""
    shown = io.StringIO()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as held:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            yield shown
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            shown.write("".join(line for line in held if NOISE not in line))
            shown.seek(0)


def _thermal_line(event, monitor) -> str | None:
    """A ``thermal`` event as a line; entering ``hot``, with the protection banner."""
    from voicecli.core.events import ThermalEvent
    from voicecli.thermal.monitor import describe

    if not isinstance(event, ThermalEvent):
        return None
    line = f"          {describe(event)}"
    banner = monitor.protection.banner if monitor is not None else None
    return f"{line}\n          {banner}" if event.actions and banner else line


def with_thermal_lines(printer: PlainPrinter, monitor):
    """The plain printer, plus lines for each ``thermal`` event (the banner in plain mode)."""

    def handle(event) -> None:
        line = _thermal_line(event, monitor)
        if line is None:
            printer(event)
        else:
            printer.out.write(line + "\n")
            printer.out.flush()

    return handle
