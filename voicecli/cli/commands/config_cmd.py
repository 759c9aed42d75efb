"""``voicecli config path`` and ``voicecli config show``: where the settings live, what they are.

Why ``show`` prints TOML with the origin as a comment: the output answers "why is it doing
that?" (default, file, env, flag) and can be pasted into the config file as a start.
"""

from __future__ import annotations

import json

import typer

from voicecli.cli.app import app, handle_errors
from voicecli.core.errors import UsageError

config_app = typer.Typer(
    help="Where the config file lives and the effective settings.", no_args_is_help=True
)
app.add_typer(config_app, name="config")
SECRET_WORDS = ("key", "token", "password", "secret")


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _flags(settings: list[str]) -> dict[str, str]:
    flags = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set wants KEY=VALUE, got {setting!r}", hint="e.g. tts.rate=160")
        flags[key.strip()] = value
    return flags


@config_app.command("path")
@handle_errors
def path() -> None:
    """Print where the config file is read from (VOICECLI_CONFIG overrides it)."""
    from voicecli.core.config import config_path

    typer.echo(str(config_path()))


@config_app.command("show")
@handle_errors
def show(
    settings: list[str] = typer.Option(
        [], "--set", help="KEY=VALUE, as a command-line flag would set it (repeatable)."
    ),
) -> None:
    """Print every setting with where its value came from: default, file, env or flag."""
    from voicecli.core.config import keys, load_config

    loaded = load_config(_flags(settings))
    state = "found" if loaded.path.is_file() else "not found"
    typer.echo(f"# config file: {loaded.path} ({state})")
    lines = []
    for key, (obj, name, _kind) in keys(loaded.config).items():
        value = getattr(obj, name)
        if value and any(word in name for word in SECRET_WORDS):
            value = "(set, hidden)"
        lines.append((f"{key} = {toml_value(value)}", loaded.sources[key]))
    width = max(len(text) for text, _ in lines if len(text) <= 60)
    for text, origin in lines:
        typer.echo(f"{text:<{width}}  # {origin}")
