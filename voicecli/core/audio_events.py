"""Events of the live audio devices: input level, microphone state and barge-in.

Why separate events: the dashboard's level meter and state line need them, and every consumer
(JSON printer, server) reads the same stream. Documented in docs/events.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from voicecli.core.events import Event, register


@dataclass(frozen=True, kw_only=True)
class Level(Event):
    """Microphone input level over the last ~100 ms, in dBFS (-100 for digital silence)."""

    type: ClassVar[str] = "level"
    rms_db: float
    peak_db: float


@dataclass(frozen=True, kw_only=True)
class MicState(Event):
    """The microphone was muted/unmuted (``m``) or push-to-talk toggled (space)."""

    type: ClassVar[str] = "mic"
    muted: bool
    push_to_talk: bool = False


@dataclass(frozen=True, kw_only=True)
class BargeIn(Event):
    """The user spoke over the assistant (or said "stop") and playback was cut.

    ``speech_ms``: user speech heard when playback was cut; ``stop_ms``: from the moment that
    speech was captured to the moment the speaker went silent (target 100 ms); ``text``: the
    word, when a word too short to barge in was transcribed and said "stop"."""

    type: ClassVar[str] = "barge_in"
    speech_ms: float
    stop_ms: float | None = None
    text: str | None = None


for _cls in (Level, MicState, BargeIn):
    register(_cls)
