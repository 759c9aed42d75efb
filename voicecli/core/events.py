"""The typed events that flow one way from the pipeline to every consumer.

Why: the printer, the dashboard, the WebSocket server and the benchmark all read this one
stream, so none of them reaches into a stage. docs/events.md is the reference (with the JSON
schema the tests validate against); bump ``EVENTS_VERSION`` when a field changes meaning.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

EVENTS_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class Event:
    """Common fields: ``t`` on the pipeline clock (None for process-wide events),
    ``wall`` in monotonic seconds, ``turn`` number (None outside a turn)."""

    type: ClassVar[str] = "event"
    t: float | None = None
    wall: float = field(default_factory=time.monotonic)
    turn: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                value = round(value, 4 if f.name in ("t", "wall") else 2)
            data[f.name] = value
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True, kw_only=True)
class SpeechStart(Event):
    """VAD heard speech begin (a turn may hold several speech segments)."""

    type: ClassVar[str] = "speech_start"


@dataclass(frozen=True, kw_only=True)
class SpeechEnd(Event):
    """VAD heard the first silent frame after speech; ``t`` is the last speech sample."""

    type: ClassVar[str] = "speech_end"


@dataclass(frozen=True, kw_only=True)
class Transcript(Event):
    type: ClassVar[str] = "transcript"
    text: str
    final: bool


@dataclass(frozen=True, kw_only=True)
class Reply(Event):
    type: ClassVar[str] = "reply"
    text: str
    final: bool


@dataclass(frozen=True, kw_only=True)
class Playback(Event):
    type: ClassVar[str] = "playback"
    state: str  # started | stopped | cut


@dataclass(frozen=True, kw_only=True)
class TurnMetrics(Event):
    """Per-turn latencies in ms; see docs/events.md for the instants they are measured from."""

    type: ClassVar[str] = "turn_metrics"
    eos_to_transcript_ms: float | None = None
    turn_wait_ms: float | None = None
    reply_ms: float | None = None
    tts_first_audio_ms: float | None = None
    voice_to_voice_ms: float | None = None
    stt_compute_ms: float | None = None
    first_token_ms: float | None = None
    turn_probability: float | None = None  # the turn model's last P(complete); None: not run
    turn_source: str | None = None  # what decided the turn: rule | model | both (None: typed)


@dataclass(frozen=True, kw_only=True)
class SystemStats(Event):
    """Process and machine load, sampled about once a second."""

    type: ClassVar[str] = "system"
    cpu_percent: float
    rss_mb: float
    process_cpu_percent: float
    mem_percent: float
    cpu_freq_mhz: float | None = None
    load_1m: float | None = None
    # From the thermal monitor when one runs (docs/thermal.md); None otherwise.
    temp_c: float | None = None  # hottest processor reading
    temp_source: str | None = None  # where it was read
    thermal_state: str | None = None  # no_sensor | normal | warm | hot
    throttled: bool | None = None


@dataclass(frozen=True, kw_only=True)
class WarningEvent(Event):
    type: ClassVar[str] = "warning"
    code: str
    message: str
    count: int = 1


@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    type: ClassVar[str] = "error"
    code: str
    message: str
    fatal: bool


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SpeechStart,
        SpeechEnd,
        Transcript,
        Reply,
        Playback,
        TurnMetrics,
        SystemStats,
        WarningEvent,
        ErrorEvent,
    )
}


def register(cls: type[Event]) -> type[Event]:
    """Add an event class defined elsewhere (timers, thermal) to the stream's vocabulary."""
    EVENT_TYPES[cls.type] = cls
    return cls


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form (the server's clients, tests)."""
    fields = dict(data)
    cls = EVENT_TYPES[fields.pop("type")]
    return cls(**fields)
