"""``voicecli transcribe FILE...``: speech to text, one record per file.

A file that cannot be read gets an error record and the others are still done; the exit code
is then 3. ``--json`` records: {file, text, duration_s, stt_ms} or {file, error}.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from voicecli.cli import options
from voicecli.cli.app import app, handle_errors
from voicecli.core.errors import AudioInputError, ExitStatus


@app.command()
@handle_errors
def transcribe(
    files: list[Path] = typer.Argument(..., help="Audio files (WAV, FLAC, OGG, ...)."),
    json_: bool = typer.Option(False, "--json", help="Print JSON Lines records."),
    model: options.Model = None,
) -> None:
    """Transcribe audio files."""
    from voicecli.audio.file import load_audio
    from voicecli.core.config import load_config
    from voicecli.listen.stt import SpeechToText

    config = load_config({"stt.model": model}).config
    engine = SpeechToText(config.stt)
    failed = False
    for path in files:
        try:
            audio = load_audio(path)
        except AudioInputError as exc:
            failed = True
            record = {"file": str(path), "error": exc.message}
            if json_:
                typer.echo(json.dumps(record))
            typer.echo(f"voicecli: error: {exc.message}", err=True)
            continue
        result = engine.transcribe(audio, vad_filter=True)
        record = {
            "file": str(path),
            "text": result.text,
            "duration_s": round(result.audio_s, 3),
            "stt_ms": round(result.compute_ms, 1),
        }
        typer.echo(json.dumps(record, ensure_ascii=False) if json_ else f"{path}: {result.text}")
    raise typer.Exit(int(ExitStatus.BAD_AUDIO if failed else ExitStatus.OK))
