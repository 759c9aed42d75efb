"""``voicecli voices``: the installed voices of both engines, Piper's and espeak-ng's, with
their sizes and licences; listing loads no Piper model (the check every TTS setting goes
through is ``voicecli.cli.assistant.check_tts_settings``)."""

from __future__ import annotations

import typer

from voicecli.cli.app import app, handle_errors
from voicecli.core.errors import UsageError


@app.command()
@handle_errors
def voices(
    match: str | None = typer.Argument(
        None, help="Only voices whose id, name or language contains this (e.g. en)."
    ),
) -> None:
    """List the installed voices of Piper and espeak-ng (* marks the configured one)."""
    from voicecli.core.config import load_config
    from voicecli.reply.tts import all_voices, split_voice

    engine, name = split_voice(load_config().config.tts.voice)
    chosen = f"piper:{name}" if engine == "piper" else name
    found = all_voices()
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
    for engine_name, title in (
        ("piper", "Piper, neural (piper-tts GPL-3.0)"),
        ("espeak-ng", "espeak-ng, formant (GPL-3.0; voice data shared, ~20 MB)"),
    ):
        group = sorted((v for v in found if v.engine == engine_name), key=lambda v: v.id)
        if not group:
            continue
        typer.echo(f"# {title}")
        rows = [(v.id, ", ".join(v.languages), v) for v in group]
        width = [max(len(row[i]) for row in rows) for i in (0, 1)]
        for voice_id, languages, voice in rows:
            mark = "*" if voice_id == chosen else " "
            extra = f"  {voice.size_mb:g} MB, {voice.license}" if voice.size_mb else ""
            line = f"{mark} {voice_id:<{width[0]}}  {languages:<{width[1]}}  {voice.name}{extra}"
            typer.echo(line)
