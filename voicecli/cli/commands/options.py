"""Options several commands share, declared once so that they read the same everywhere."""

from __future__ import annotations

import typer

MODEL = typer.Option(None, "--model", help="STT model: catalogue id or directory.")
BRAIN = typer.Option(None, "--brain", help="skills (default) or echo.")
LLM = typer.Option(
    None, "--llm", help="Language model after the skills: none, local (embedded) or openai."
)
LLM_URL = typer.Option(
    None, "--llm-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."
)
LLM_MODEL = typer.Option(
    None, "--llm-model", help="Server model name; with --llm local, a catalogue id or .gguf."
)
INPUT_DEVICE = typer.Option(
    None, "--input-device", help="Microphone: index or part of its name (voicecli devices)."
)
OUTPUT = typer.Option(
    None,
    "--output",
    "-o",
    help="'speaker', a WAV file or 'none' (default: speaker with the mic, else none).",
)
OUTPUT_DEVICE = typer.Option(
    None, "--output-device", help="Speaker: index or part of its name (voicecli devices)."
)
VOICE = typer.Option(None, "--voice", help="Voice id (see: voicecli voices).")
RATE = typer.Option(None, "--rate", help="Speaking rate, words per minute (80-450).")


def assistant_flags(
    *,
    model: str | None,
    brain: str | None,
    llm: str | None,
    llm_url: str | None,
    llm_model: str | None,
    voice: str | None,
    rate: int | None,
) -> dict[str, object]:
    """The settings those options set (config keys), for ``load_config``."""
    return {
        "stt.model": model,
        "brain.name": brain,
        "llm.backend": llm,
        "llm.url": llm_url,
        "llm.model": llm_model,
        "tts.voice": voice,
        "tts.rate": rate,
    }
