"""Events of the live audio devices: input level, microphone state, barge-in and echo.

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


@dataclass(frozen=True, kw_only=True)
class Echo(Event):
    """The echo canceller's measured state, about once a second while it changes.

    ``delay_ms``: speaker-to-microphone delay (null: not measured yet); ``erle_db``: echo
    return loss enhancement over the last second the speaker played (null: it did not);
    ``state``: ``idle``, ``converging``, ``converged``, or ``off`` (no canceller: ``reason``)."""

    type: ClassVar[str] = "echo"
    delay_ms: float | None = None
    erle_db: float | None = None
    state: str
    reason: str | None = None


for _cls in (Level, MicState, BargeIn, Echo):
    register(_cls)
