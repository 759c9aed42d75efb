"""The ``voicecli`` program: the Typer app with every command registered, and its entry point.

Importing a command module registers it on ``voicecli.cli.app.app``; this module imports them
all, so ``from voicecli.cli.main import app`` is the complete command line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from voicecli.cli.app import app
from voicecli.cli.commands import (  # noqa: F401  (each registers itself on app)
    bench,
    chat,
    config_cmd,
    connect,
    devices,
    doctor,
    models,
    say,
    serve,
    transcribe,
    voices,
)

__all__ = ["app", "run"]


def run() -> None:
    """The console entry point. Every command joins its threads and closes its files before
    it returns, so the exit skips the interpreter's teardown: unloading torch and ctranslate2
    took 0.65 s here, most of the time Ctrl-C took to end a conversation."""
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    logging.shutdown()
    os._exit(code)
