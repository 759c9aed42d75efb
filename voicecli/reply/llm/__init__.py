"""Language models behind the skills: an OpenAI-compatible server or the embedded model.

``make_brain(config)`` is the one way commands (chat, serve, bench) build the brain: skills
only, echo, or skills first and then the configured LLM. Build it once per process (the
embedded model takes ~200 MB) and share it between pipelines; conversations are kept apart by
their ``Conversation`` objects. Call ``brain.close()`` at the end.
"""

from __future__ import annotations

from pathlib import Path

from voicecli.core import catalogue
from voicecli.core.config import Config, LlmConfig
from voicecli.core.errors import ModelMissingError, UsageError
from voicecli.reply.brain import BRAINS, Brain
from voicecli.reply.llm.backend import LlmBackend
from voicecli.reply.llm.composite import SkillsThenLlm

BACKENDS = ("none", "openai", "local")


def backend_kind(config: LlmConfig) -> str:
    """none, openai or local; an empty ``backend`` means openai when a URL is set."""
    kind = config.backend.strip().lower() or ("openai" if config.url else "none")
    if kind not in BACKENDS:
        raise UsageError(f"unknown LLM backend {config.backend!r}: use none, openai or local")
    if kind == "openai" and not config.url:
        raise UsageError("the openai LLM backend needs a URL", hint="--llm-url URL")
    return kind


def local_model_path(model: str) -> Path:
    """A catalogue id (default: the catalogue's default LLM) or a path to a .gguf file."""
    if not model:
        return catalogue.resolve(catalogue.default("llm").id, "llm")
    if catalogue.find(model, "llm") is not None:
        return catalogue.resolve(model, "llm")
    path = Path(model).expanduser()
    if path.is_file():
        return path
    if path.suffix.lower() == ".gguf" or path.parent != Path("."):
        raise ModelMissingError(f"no GGUF model file at {path}")
    known = ", ".join(e.id for e in catalogue.entries() if e.kind == "llm")
    raise UsageError(f"unknown LLM model {model!r}", hint=f"known: {known}, or a .gguf path")


def make_backend(config: LlmConfig) -> LlmBackend | None:
    kind = backend_kind(config)
    if kind == "openai":
        from voicecli.reply.llm.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(
            config.url,
            model=config.model,
            api_key=config.api_key,
            connect_timeout_s=config.connect_timeout_s,
            first_token_timeout_s=config.first_token_timeout_s,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
        )
    if kind == "local":
        from voicecli.reply.llm.embedded import EmbeddedBackend

        return EmbeddedBackend(
            local_model_path(config.model),
            threads=config.threads,
            first_token_timeout_s=config.first_token_timeout_s,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            system_prompt=config.system_prompt,
        )
    return None


def make_brain(config: Config) -> Brain:
    """The brain ``config`` asks for: echo, skills, or skills then the LLM."""
    if config.brain.name not in BRAINS:
        raise UsageError(f"unknown brain {config.brain.name!r}: use skills or echo")
    backend = make_backend(config.llm) if config.brain.name == "skills" else None
    if backend is None:
        return BRAINS[config.brain.name]()
    return SkillsThenLlm(backend, config.llm)
