"""``voicecli voices``: the installed voices of both engines, and the check every TTS flag goes
through.

Why the check lives here: ``--voice`` and ``--rate`` on ``chat``, ``say`` and ``serve`` (and
tts.voice / tts.rate in the config file) must fail with a usage error listing the voices
before any model is loaded, not deep inside the pipeline. Listing loads no Piper model.
"""

from __future__ import annotations

import typer

from voicecli.cli.app import app, handle_errors
from voicecli.core.config import TtsConfig
from voicecli.core.errors import UsageError

RATE_RANGE = (80, 450)  # words per minute espeak-ng accepts (Piper: its length scale, 175 = 1)


def check_tts_settings(tts: TtsConfig) -> None:
    """Raise a UsageError for an unknown voice (listing the known ones) or a bad rate."""
    from voicecli.reply.tts import all_voices, split_voice

    low, high = RATE_RANGE
    if not low <= tts.rate <= high:
        raise UsageError(f"rate {tts.rate} is out of range: use {low} to {high} words per minute")
    if tts.threads < 1:
        raise UsageError(f"tts.threads must be 1 or more, got {tts.threads}")
    known = all_voices()
    engine, name = split_voice(tts.voice)
    wanted = f"piper:{name}" if engine == "piper" else name
    if wanted not in {v.id for v in known}:
        piper = [v.id for v in known if v.engine == "piper"]
        espeak = [v.id for v in known if v.engine != "piper"]
        raise UsageError(
            f"unknown voice {tts.voice!r}",
            hint=f"Piper: {', '.join(piper) or 'not installed'}; "
            f"espeak-ng (or espeak:ID): {', '.join(sorted(espeak))}",
        )


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
