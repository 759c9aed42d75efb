"""``voicecli voices``: the installed espeak-ng voices (``--voice`` takes their ids; the check
every TTS setting goes through is ``voicecli.cli.assistant.check_tts_settings``)."""

from __future__ import annotations

import typer

from voicecli.cli.app import app, handle_errors
from voicecli.core.config import TtsConfig
from voicecli.core.errors import UsageError


@app.command()
@handle_errors
def voices(
    match: str | None = typer.Argument(
        None, help="Only voices whose id, name or language contains this (e.g. en)."
    ),
) -> None:
    """List the installed voices (* marks the configured one)."""
    from voicecli.core.config import load_config
    from voicecli.reply.tts import TextToSpeech

    chosen = load_config().config.tts.voice
    found = TextToSpeech(TtsConfig()).voices()
    if match:
        wanted = match.lower()
        found = [
            v
            for v in found
            if wanted in v.id
            or wanted in v.name.lower()
            or any(wanted in lang for lang in v.languages)
        ]
    if not found:
        raise UsageError(f"no voice matches {match!r}", hint="run voicecli voices for all")
    rows = [(v.id, ", ".join(v.languages), v.name) for v in sorted(found, key=lambda v: v.id)]
    width = [max(len(row[i]) for row in rows) for i in (0, 1)]
    for voice_id, languages, name in rows:
        mark = "*" if voice_id == chosen else " "
        typer.echo(f"{mark} {voice_id:<{width[0]}}  {languages:<{width[1]}}  {name}")
