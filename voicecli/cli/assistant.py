"""The assistant ``chat``, ``serve`` and ``bench`` run: its settings, brain and models, loaded
and cleaned up in one place.

Why two steps: ``assistant_config`` fails on a bad option (voice, rate, brain, LLM backend)
before anything slow happens, so commands can then open what must fail fast (audio devices,
the listening socket) before ``load_assistant`` loads the models, which takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from voicecli.cli.commands.voices import check_tts_settings
from voicecli.cli.options import AssistantOptions
from voicecli.core.config import Config, load_config

if TYPE_CHECKING:
    from voicecli.pipeline.pipeline import Engines
    from voicecli.reply.brain import Brain


class Closable(Protocol):
    def close(self) -> None: ...


def assistant_config(options: AssistantOptions) -> Config:
    """The effective settings (defaults < file < env < ``options``), checked."""
    from voicecli.core.errors import UsageError
    from voicecli.reply.brain import BRAINS
    from voicecli.reply.llm import backend_kind

    config = load_config(options.flags()).config
    check_tts_settings(config.tts)
    if config.brain.name not in BRAINS:
        raise UsageError(f"unknown brain {config.brain.name!r}: use skills or echo")
    backend_kind(config.llm)
    return config


@dataclass(frozen=True)
class Assistant:
    config: Config
    brain: Brain  # one per process, shared by every pipeline
    engines: Engines


@contextmanager
def load_assistant(config: Config, *, opened: Closable | None = None) -> Iterator[Assistant]:
    """Build the brain, then load the models (the LLM's thread settings come first); the brain
    is closed when the block ends. ``opened``: what the caller opened before the models and
    hands over to what it builds from them; closed here only if loading fails."""
    from voicecli.pipeline.pipeline import Engines
    from voicecli.reply.llm import make_brain

    with ExitStack() as on_failure:
        if opened is not None:
            on_failure.callback(opened.close)
        brain = make_brain(config)
        on_failure.callback(brain.close)
        engines = Engines.load(config)
        on_failure.pop_all()
    try:
        yield Assistant(config, brain, engines)
    finally:
        brain.close()
