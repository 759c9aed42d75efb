"""Options several commands share, declared once as ``Annotated`` aliases so that they read the
same everywhere (Typer has no shared-options dataclass): ``model: options.Model = None``.

The assistant's options (``--model`` ... ``--rate``) are gathered into ``AssistantOptions``,
what ``voicecli.cli.assistant`` loads the assistant from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

Model = Annotated[str | None, typer.Option("--model", help="STT model: catalogue id or directory.")]
Brain = Annotated[str | None, typer.Option("--brain", help="skills (default) or echo.")]
Llm = Annotated[
    str | None,
    typer.Option(
        "--llm", help="Language model after the skills: none, local (embedded) or openai."
    ),
]
LlmUrl = Annotated[
    str | None,
    typer.Option("--llm-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1."),
]
LlmModel = Annotated[
    str | None,
    typer.Option(
        "--llm-model", help="Server model name; with --llm local, a catalogue id or .gguf."
    ),
]
Voice = Annotated[str | None, typer.Option("--voice", help="Voice id (see: voicecli voices).")]
Rate = Annotated[
    int | None, typer.Option("--rate", help="Speaking rate, words per minute (80-450).")
]
Bias = Annotated[
    str | None,
    typer.Option("--bias", help="Recognition prompt: skills (their words, the last turn) or off."),
]
InputDevice = Annotated[
    str | None,
    typer.Option(
        "--input-device", help="Microphone: index or part of its name (voicecli devices)."
    ),
]
Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="'speaker', a WAV file or 'none' (default: speaker with the mic, else none).",
    ),
]
OutputDevice = Annotated[
    str | None,
    typer.Option("--output-device", help="Speaker: index or part of its name (voicecli devices)."),
]


@dataclass(frozen=True)
class AssistantOptions:
    """The assistant's options as given (None: not given, the config file or default rules)."""

    model: str | None = None
    brain: str | None = None
    llm: str | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    voice: str | None = None
    rate: int | None = None
    bias: str | None = None

    def flags(self) -> dict[str, object]:
        """The settings these options set (config keys), for ``load_config``."""
        return {
            "stt.model": self.model,
            "brain.name": self.brain,
            "llm.backend": self.llm,
            "llm.url": self.llm_url,
            "llm.model": self.llm_model,
            "tts.voice": self.voice,
            "tts.rate": self.rate,
            "stt.bias": self.bias,
        }
