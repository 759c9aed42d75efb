"""The ``voicecli`` command line (Typer): the app, global options and error handling.

The commands (``voicecli.cli.commands``) register themselves on ``app``; ``voicecli.cli.main``
imports them all and runs the program, so imports only point down: main -> commands -> app.

Why one wrapper for errors: every command ends the same way on bad input -- one line on
stderr, the documented exit code, no traceback (``--log-level debug`` shows tracebacks).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from voicecli import __version__
from voicecli.core.errors import ExitStatus, VoicecliError

app = typer.Typer(
    name="voicecli",
    help="A terminal-first, fully local voice assistant.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)
log = logging.getLogger("voicecli")


def fail(message: str, status: ExitStatus) -> typer.Exit:
    typer.echo(f"voicecli: error: {message}", err=True)
    return typer.Exit(int(status))


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn VoicecliError into its message and exit code; anything else into exit 6."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except VoicecliError as exc:
            raise fail(str(exc), exc.status) from None
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitStatus.SIGINT)) from None
        except BrokenPipeError:  # `voicecli voices | head`: the reader left, nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(int(ExitStatus.OK)) from None
        except Exception as exc:  # a bug: say so plainly, details at --log-level debug
            log.debug("unexpected error", exc_info=exc)
            raise fail(f"internal error: {exc!r}", ExitStatus.RUNTIME_FAILURE) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voicecli {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    log_level: str = typer.Option(
        "warning", "--log-level", help="debug, info, warning or error (logs go to stderr)."
    ),
) -> None:
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise fail(f"unknown log level {log_level!r}", ExitStatus.USAGE)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
