"""The assistant ``chat``, ``serve`` and ``bench`` run: its settings, brain and models, loaded
and cleaned up in one place.

``check_tts_settings`` is also what ``say`` checks its voice and rate with.

Why two steps: ``assistant_config`` fails on a bad option (voice, rate, brain, LLM backend)
before anything slow happens, so commands can then open what must fail fast (audio devices,
the listening socket) before ``load_assistant`` loads the models, which takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from voicecli.cli.options import AssistantOptions
from voicecli.core.config import Config, TtsConfig, load_config
from voicecli.core.errors import UsageError

if TYPE_CHECKING:
    from voicecli.pipeline.pipeline import Engines
    from voicecli.reply.brain import Brain


RATE_RANGE = (80, 450)  # words per minute espeak-ng accepts (Piper: length scale 175 / rate)


class Closable(Protocol):
    def close(self) -> None: ...


def check_tts_settings(tts: TtsConfig) -> None:
    """Raise a UsageError for an unknown voice (listing the known ones of both engines) or a
    rate out of range: ``--voice`` and ``--rate`` (and tts.voice / tts.rate in the config file)
    fail before any model loads, not deep inside the pipeline. Loads no Piper model."""
    from voicecli.reply.tts import all_voices, split_voice

    low, high = RATE_RANGE
    if not low <= tts.rate <= high:
        raise UsageError(f"rate {tts.rate} is out of range: use {low} to {high} words per minute")
    if tts.threads < 1:
        raise UsageError(f"tts.threads must be 1 or more, got {tts.threads}")
    if not 0 <= tts.nice <= 19:
        raise UsageError(f"tts.nice must be 0 to 19, got {tts.nice}")
    known = all_voices()
    engine, name = split_voice(tts.voice)
    if (f"piper:{name}" if engine == "piper" else name) not in {v.id for v in known}:
        piper = [v.id for v in known if v.engine == "piper"]
        espeak = sorted(v.id for v in known if v.engine != "piper")
        raise UsageError(
            f"unknown voice {tts.voice!r}",
            hint=f"Piper: {', '.join(piper) or 'not installed'}; "
            f"espeak-ng (or espeak:ID): {', '.join(espeak)}",
        )


def assistant_config(options: AssistantOptions) -> Config:
    """The effective settings (defaults < file < env < ``options``), checked."""
    from voicecli.reply.bias import bias_for
    from voicecli.reply.brain import BRAINS
    from voicecli.reply.llm import backend_kind

    config = load_config(options.flags()).config
    check_tts_settings(config.tts)
    if config.brain.name not in BRAINS:
        raise UsageError(f"unknown brain {config.brain.name!r}: use skills or echo")
    backend_kind(config.llm)
    bias_for(config)  # an unknown stt.bias: exit 2 before any model loads
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
