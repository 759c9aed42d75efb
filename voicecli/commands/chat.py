"""``voicecli chat``: a conversation from a file (or the bundled demo)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer

from voicecli.cli import app, fail, handle_errors
from voicecli.errors import ExitStatus, UsageError

DEMO = "demo.flac"


def demo_path() -> Path:
    return Path(str(resources.files("voicecli.data").joinpath(DEMO)))


@app.command()
@handle_errors
def chat(
    input: str | None = typer.Option(None, "--input", "-i", help="Audio file to listen to."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="WAV file for the replies, or 'none' (default: none)."
    ),
    demo: bool = typer.Option(False, "--demo", help="Play the bundled demo conversation."),
    json_: bool = typer.Option(False, "--json", help="Print events as JSON Lines."),
    plain: bool = typer.Option(False, "--plain", help="Print plain lines (the default for now)."),
    fast: bool = typer.Option(False, "--fast", help="Feed file input as fast as possible."),
    model: str | None = typer.Option(None, "--model", help="STT model: catalogue id or directory."),
    brain: str | None = typer.Option(None, "--brain", help="skills (default) or echo."),
    llm: str | None = typer.Option(
        None, "--llm", help="Language model after the skills: none, local (embedded) or openai."
    ),
    llm_url: str | None = typer.Option(
        None, "--llm-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."
    ),
    llm_model: str | None = typer.Option(
        None, "--llm-model", help="Server model name; with --llm local, a catalogue id or .gguf."
    ),
) -> None:
    """Talk to the assistant: listen, transcribe, answer and speak."""
    from voicecli.audio_sink import open_sink
    from voicecli.audio_source import FileSource
    from voicecli.bus import EventBus
    from voicecli.config import load_config
    from voicecli.pipeline import Engines, Pipeline
    from voicecli.printer import JsonPrinter, PlainPrinter
    from voicecli.runner import run_foreground

    if json_ and plain:
        raise UsageError("--json and --plain exclude each other")
    if demo and input:
        raise UsageError("--demo and --input exclude each other")
    if not demo and not input:
        raise UsageError("give --input FILE or --demo (the microphone is not supported yet)")
    loaded = load_config(
        {
            "stt.model": model,
            "brain.name": brain,
            "llm.backend": llm,
            "llm.url": llm_url,
            "llm.model": llm_model,
        }
    )
    if loaded.config.brain.name not in ("skills", "echo"):
        raise UsageError(f"unknown brain {loaded.config.brain.name!r}: use skills or echo")
    from voicecli.llm import make_brain

    reply_brain = make_brain(loaded.config)  # before Engines: the LLM's thread settings first
    source = FileSource(demo_path() if demo else input, realtime=not fast)
    sink = open_sink(output)
    try:
        engines = Engines.load(loaded.config)
        pipeline = Pipeline(
            config=loaded.config,
            engines=engines,
            source=source,
            sink=sink,
            bus=EventBus(),
            fast=fast,
            brain=reply_brain,
        )
    except BaseException:
        sink.close()
        reply_brain.close()
        raise
    status = run_foreground(pipeline, JsonPrinter() if json_ else PlainPrinter())
    reply_brain.close()
    if status is ExitStatus.RUNTIME_FAILURE:
        raise fail(pipeline.fatal.message, status)
    raise typer.Exit(int(status))
