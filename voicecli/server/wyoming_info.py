"""The Wyoming ``info`` answer: what this server offers Home Assistant (asr, tts, handle).

Why built from the configuration and not the loaded models: Home Assistant waits one second for
``info`` and only makes entities for programs marked installed, so the answer must be ready
before the STT model has finished loading. Everything here is known without it.
"""

from __future__ import annotations

from pathlib import Path

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
)

from voicecli import __version__
from voicecli.core.config import Config
from voicecli.reply.tts import Voice

VOICECLI = Attribution(name="voicecli", url="")  # no public home page yet
WHISPER = Attribution(
    name="OpenAI Whisper (faster-whisper)", url="https://github.com/openai/whisper"
)
ESPEAK = Attribution(name="eSpeak NG", url="https://github.com/espeak-ng/espeak-ng")
PIPER = Attribution(name="Piper", url="https://github.com/OHF-Voice/piper1-gpl")


def stt_languages(model: str) -> list[str]:
    """English-only Whisper models (``*.en``) speak English; the others Whisper's languages."""
    if Path(model.rstrip("/")).name.endswith(".en"):
        return ["en"]
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return sorted(_LANGUAGE_CODES)


def brain_description(config: Config) -> str:
    llm = config.llm
    if config.brain.name != "skills":
        return f"{config.brain.name} brain"
    if llm.backend == "local" or (llm.backend in ("", "openai") and llm.url):
        return f"skills, then the language model {llm.model or llm.backend or llm.url}"
    return "skills (arithmetic, units, time, date, recall, repeat)"


def _artifact(kind, name: str, description: str, attribution: Attribution, **fields):
    """Every program, model and voice here is installed: Home Assistant ignores the others."""
    return kind(
        name=name, description=description, attribution=attribution, installed=True, **fields
    )


def build_info(config: Config, voices: list[Voice]) -> Info:
    model, brain = config.stt.model, brain_description(config)
    asr = _artifact(
        AsrProgram,
        "voicecli",
        "voicecli speech-to-text (faster-whisper, short-window decoding)",
        VOICECLI,
        version=__version__,
        models=[
            _artifact(
                AsrModel,
                model,
                f"Whisper {model}",
                WHISPER,
                version=None,
                languages=stt_languages(model),
            )
        ],
        supports_transcript_streaming=True,
    )
    tts = _artifact(
        TtsProgram,
        "voicecli",
        "voicecli text-to-speech (Piper, espeak-ng)",
        VOICECLI,
        version=__version__,
        voices=[
            _artifact(
                TtsVoice,
                v.id,
                f"{v.name} ({v.engine}, {v.license})",
                PIPER if v.engine == "piper" else ESPEAK,
                version=None,
                languages=list(v.languages),
            )
            for v in voices
        ],
        supports_synthesize_streaming=True,
    )
    handle = _artifact(
        HandleProgram,
        "voicecli",
        "voicecli conversation: " + brain,
        VOICECLI,
        version=__version__,
        models=[
            _artifact(
                HandleModel, config.brain.name, brain, VOICECLI, version=None, languages=["en"]
            )
        ],
        supports_home_control=False,
    )
    return Info(asr=[asr], tts=[tts], handle=[handle])
