"""Settings: one dataclass tree, loaded from defaults < TOML file < VOICECLI_* env < flags.

Why one loader: every command (chat, serve, bench) reads the same settings the same way, and
`config show` can say where each value came from. A key ``section.field`` maps to the env var
``VOICECLI_SECTION_FIELD`` and to ``[section] field = …`` in the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecli.core.errors import UsageError

CONFIG_ENV = "VOICECLI_CONFIG"
#: Extra env names accepted for a key; the canonical ``VOICECLI_SECTION_FIELD`` wins over them.
ENV_ALIASES = {"thermal.sysfs_root": "VOICECLI_SYSFS_ROOT"}


@dataclass
class SttConfig:
    model: str = "tiny.en"  # catalogue id (models/catalogue.toml) or a model directory
    threads: int = 0  # 0: one per CPU core
    beam_size: int = 1
    allow_download: bool = False
    partials: bool = True  # partial transcripts while the user speaks
    partial_interval_s: float = 0.4  # of new speech between partials
    # recognition prompt (reply/bias.py): "skills" (the skills' words, wake word, previous
    # turn) or "off"; measured in docs/recognition.md
    bias: str = "off"


@dataclass
class VadConfig:
    engine: str = "onnx"  # onnx | jit (same Silero model; onnx measured 3x cheaper)
    threshold: float = 0.5  # speech starts above this probability
    neg_threshold: float = 0.35  # and ends below this one
    min_speech_ms: int = 96  # shorter blips are not speech
    tail_ms: int = 64  # audio kept after speech ends (final consonants) before STT starts
    max_utterance_s: float = 28.0  # a longer monologue is cut into turns


@dataclass
class TurnConfig:
    """Wait after speech stops, chosen by how the transcript ends (RealtimeVoiceChat's anchors)."""

    wait_question_s: float = 0.33
    wait_exclamation_s: float = 0.35
    wait_full_stop_s: float = 0.39
    wait_no_punctuation_s: float = 1.25
    wait_ellipsis_s: float = 2.3
    # The audio end-of-turn model beside those rules (docs/turns.md: chosen by the sweep in
    # benchmarks/turn_sweep.py on half the real recordings, checked on the other half).
    detector: str = "combined"  # rules | model | combined (rules alone when the model is missing)
    model_threshold: float = 0.5  # P(complete) at or above which the model says "complete"
    short_words: int = 4  # longer transcripts without final punctuation read unfinished
    wait_agree_s: float = 0.45  # transcript (. ? !) and model both say complete
    wait_model_s: float = 0.25  # no final punctuation, the model says complete
    wait_unknown_s: float = 0.5  # no final punctuation, the model says unfinished
    wait_disagree_s: float = 0.7  # a final . ? ! the model does not confirm
    wait_model_max_s: float = 1.25  # detector "model": longest wait while it says unfinished
    model_interval_s: float = 0.384  # while silence lasts (and it says unfinished), score again
    model_when_hot: bool = True  # under thermal protection: False skips the model (rules)


@dataclass
class TtsConfig:
    voice: str = "piper:joe"  # piper:NAME, espeak:ID or a bare espeak-ng ID (voicecli voices)
    rate: int = 175  # words per minute (Piper: its length scale, 175 = the voice's own pace)
    threads: int = 1  # Piper's onnxruntime threads (benchmarks/RESULTS.md, "Piper TTS")
    nice: int = 10  # Piper synthesises at this niceness (Linux): speech recognition comes first


@dataclass
class BrainConfig:
    name: str = "skills"  # skills | echo


@dataclass
class ThermalConfig:
    """Thermal monitor and protection (docs/thermal.md); checked by ``thermal_state.Thresholds``."""

    interval_s: float = 1.0  # seconds between polls
    warn_c: float = 75.0  # normal -> warm (back to normal 3 C below)
    hot_c: float = 85.0  # warm -> hot: protection on
    resume_c: float = 80.0  # hot -> protection off below this; must be < hot_c
    sysfs_root: str = "/sys"  # VOICECLI_SYSFS_ROOT also works
    vcgencmd: str = "vcgencmd"  # Raspberry Pi tool: name on PATH or a path; "" disables


@dataclass
class LlmConfig:
    """The language model behind the skills (voicecli/llm): none, an OpenAI-compatible server
    (``url``) or the embedded llama.cpp model (``backend = "local"``)."""

    backend: str = ""  # "" (openai when url is set, else none) | none | openai | local
    url: str = ""  # e.g. http://127.0.0.1:11434/v1 (Ollama)
    model: str = ""  # server model name; for local: catalogue id or .gguf path
    api_key: str = ""  # VOICECLI_LLM_API_KEY
    system_prompt: str = (
        "You are a friendly voice assistant. Your words are spoken aloud, so answer in one "
        "or two short sentences of plain text, without lists, markdown, code or emoji."
    )
    connect_timeout_s: float = 3.0
    first_token_timeout_s: float = 10.0
    max_history_turns: int = 6  # earlier exchanges sent with each question (see history_window)
    temperature: float = 0.3
    max_tokens: int = 120  # a spoken answer is short (~30 s); this bounds a rambling one
    threads: int = 0  # local: 0 = one less than the CPU cores (leaves one to STT)


@dataclass
class WakeConfig:
    """Hands-free listening (docs/wake.md): a wake word, then a follow-up window."""

    word: str = ""  # "" answers everything heard; okay_nabu | alexa | hey_jarvis | hey_mycroft
    follow_up_s: float = 5.0  # after a reply, listen this long without the wake word
    cooldown_s: float = 1.0  # after a detection the model ignores this much audio
    rewind_ms: int = 200  # the turn starts this long before the detection (the model's lag)
    chime: bool = True  # a short tone on detection (live speaker only)
    # probability cutoffs (averaged over 5 inferences): the upstream defaults, kept (measured)
    cutoff_okay_nabu: float = 0.85
    cutoff_alexa: float = 0.9
    cutoff_hey_mycroft: float = 0.95
    cutoff_hey_jarvis: float = 0.97


@dataclass
class BargeInConfig:
    """Speaking over the reply (docs/events.md, barge_in): on when the echo canceller loads."""

    enabled: bool = True  # false: the microphone is gated while the assistant speaks
    decide_s: float = 2.0  # a paused reply waits this long for words before it resumes


@dataclass
class EchoConfig:
    """The WebRTC echo canceller's extra processing (``chat --echo-cancel``, ``connect --input
    mic``): each is on by default only where it lowered WER on real speech in noise
    (benchmarks/ECHO.md)."""

    noise_suppression: bool = True
    high_pass_filter: bool = False
    auto_gain_control: bool = False


@dataclass
class ConfirmConfig:
    """Ask back before acting on a doubtful spoken turn (docs/confirm.md); the thresholds were
    chosen on real recordings (benchmarks/CONFIRM.md)."""

    enabled: bool = True
    log_prob_below: float = -1.05  # a transcript is doubtful below this average log-probability
    no_speech_above: float = 0.7  # ... or above this no-speech probability
    window_s: float = 10.0  # a question not answered within this long is dropped


@dataclass
class Config:
    stt: SttConfig = field(default_factory=SttConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    turn: TurnConfig = field(default_factory=TurnConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    brain: BrainConfig = field(default_factory=BrainConfig)
    thermal: ThermalConfig = field(default_factory=ThermalConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    wake: WakeConfig = field(default_factory=WakeConfig)
    barge_in: BargeInConfig = field(default_factory=BargeInConfig)
    echo: EchoConfig = field(default_factory=EchoConfig)
    confirm: ConfirmConfig = field(default_factory=ConfirmConfig)


@dataclass
class LoadedConfig:
    config: Config
    sources: dict[str, str]  # "stt.model" -> default | file | env | flag
    path: Path


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    import platformdirs

    return platformdirs.user_config_path("voicecli") / "config.toml"


def env_name(key: str) -> str:
    return "VOICECLI_" + key.replace(".", "_").upper()


def _field_types(obj: object) -> dict[str, Any]:
    return typing.get_type_hints(type(obj))


def _coerce(key: str, kind: Any, value: Any) -> Any:
    """Turn a TOML or env value into the field's type, or say clearly why not."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
            return None
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if kind in (int, float):
            if isinstance(value, bool):
                raise ValueError(value)
            return kind(value)
        if kind is str:
            return str(value)
    except (TypeError, ValueError):
        raise UsageError(f"setting {key}: {value!r} is not a valid {kind.__name__}") from None
    return value


def keys(config: Config) -> dict[str, tuple[object, str, Any]]:
    """Every ``section.field`` key with the object holding it, the field name and its type."""
    out = {}
    for section in dataclasses.fields(config):
        obj = getattr(config, section.name)
        for name, kind in _field_types(obj).items():
            out[f"{section.name}.{name}"] = (obj, name, kind)
    return out


def _apply(all_keys: dict, sources: dict, key: str, value: Any, origin: str) -> None:
    if key not in all_keys:
        raise UsageError(f"unknown setting {key!r} (from {origin})")
    obj, name, kind = all_keys[key]
    setattr(obj, name, _coerce(key, kind, value))
    sources[key] = origin


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> LoadedConfig:
    """Build the effective settings; ``flags`` maps keys to CLI values (None = not given)."""
    env = os.environ if env is None else env
    path = path or config_path(env)
    config = Config()
    all_keys = keys(config)
    sources = dict.fromkeys(all_keys, "default")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read config file {path}: {exc}") from None
        for section, values in data.items():
            if not isinstance(values, dict):
                raise UsageError(f"config file {path}: [{section}] must be a table")
            for name, value in values.items():
                _apply(all_keys, sources, f"{section}.{name}", value, "file")
    for key in all_keys:
        name = next((n for n in (env_name(key), ENV_ALIASES.get(key)) if n and n in env), None)
        if name:
            _apply(all_keys, sources, key, env[name], "env")
    for key, value in (flags or {}).items():
        if value is not None:
            _apply(all_keys, sources, key, value, "flag")
    return LoadedConfig(config=config, sources=sources, path=path)
