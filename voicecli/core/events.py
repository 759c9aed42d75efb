"""The typed events that flow one way from the pipeline to every consumer.

Why: the printer, the dashboard, the WebSocket server and the benchmark all read this one
stream, so none of them reaches into a stage. Every event class is defined and registered here,
so ``from_dict`` knows every type whatever else was imported. docs/events.md is the reference
(with the JSON schema the tests validate against); bump ``EVENTS_VERSION`` when a field changes
meaning.
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


EVENT_TYPES: dict[str, type[Event]] = {}


def register(cls: type[Event]) -> type[Event]:
    """Add ``cls`` to the stream's vocabulary (each class below, once)."""
    EVENT_TYPES[cls.type] = cls
    return cls


@register
@dataclass(frozen=True, kw_only=True)
class SpeechStart(Event):
    """VAD heard speech begin (a turn may hold several speech segments)."""

    type: ClassVar[str] = "speech_start"


@register
@dataclass(frozen=True, kw_only=True)
class SpeechEnd(Event):
    """VAD heard the first silent frame after speech; ``t`` is the last speech sample."""

    type: ClassVar[str] = "speech_end"


@register
@dataclass(frozen=True, kw_only=True)
class Transcript(Event):
    """``avg_logprob``/``no_speech_prob``: the decoder's confidence in a spoken final
    transcript (None: typed, or a partial)."""

    type: ClassVar[str] = "transcript"
    text: str
    final: bool
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@register
@dataclass(frozen=True, kw_only=True)
class Reply(Event):
    type: ClassVar[str] = "reply"
    text: str
    final: bool


@register
@dataclass(frozen=True, kw_only=True)
class Playback(Event):
    type: ClassVar[str] = "playback"
    state: str  # started | stopped | cut


@register
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


@register
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


@register
@dataclass(frozen=True, kw_only=True)
class WarningEvent(Event):
    type: ClassVar[str] = "warning"
    code: str
    message: str
    count: int = 1


@register
@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    type: ClassVar[str] = "error"
    code: str
    message: str
    fatal: bool


@register
@dataclass(frozen=True, kw_only=True)
class Level(Event):
    """Microphone input level over the last ~100 ms, in dBFS (-100 for digital silence)."""

    type: ClassVar[str] = "level"
    rms_db: float
    peak_db: float


@register
@dataclass(frozen=True, kw_only=True)
class MicState(Event):
    """The microphone was muted/unmuted (``m``) or push-to-talk toggled (space)."""

    type: ClassVar[str] = "mic"
    muted: bool
    push_to_talk: bool = False


@register
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


@register
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


@register
@dataclass(frozen=True, kw_only=True)
class TimerEvent(Event):
    """A timer was set (fired and cancelled false), fired, or cancelled.

    ``label`` is the user's name for it ("pasta") or its spoken length ("5 minute");
    ``due_in_s`` is its length when set, 0 when fired, what was left when cancelled."""

    type: ClassVar[str] = "timer"
    id: int
    label: str
    due_in_s: float
    fired: bool = False
    cancelled: bool = False


@register
@dataclass(frozen=True, kw_only=True)
class ThermalEvent(Event):
    """The thermal state or the throttled flag changed (and the first poll's state)."""

    type: ClassVar[str] = "thermal"
    state: str  # no_sensor | normal | warm | hot
    temp_c: float | None  # the hottest processor reading; None with no sensor
    source: str | None  # where temp_c was read
    throttled: bool
    actions: list[str] = field(default_factory=list)  # protection actions now in force
    throttle_reasons: list[str] = field(default_factory=list)
    previous: str | None = None  # the state before (None on the first poll)


# the listening states of hands-free mode (``wake_state`` events)
ASLEEP, AWAKE, FOLLOW_UP = "asleep", "awake", "follow_up"


@register
@dataclass(frozen=True, kw_only=True)
class WakeWordHeard(Event):
    """The wake-word model's averaged probability crossed its cutoff; ``t`` is the end of the
    frame it crossed in (the turn's audio starts there)."""

    type: ClassVar[str] = "wake"
    word: str
    probability: float


@register
@dataclass(frozen=True, kw_only=True)
class WakeState(Event):
    """``asleep``: only the wake-word model listens; ``awake``: the next turn is taken;
    ``follow_up``: after a reply, a turn is taken without the wake word for ``seconds_left``."""

    type: ClassVar[str] = "wake_state"
    state: str
    word: str
    seconds_left: float | None = None


CONFIRM_STATES = ("asked", "confirmed", "declined", "expired")


@register
@dataclass(frozen=True, kw_only=True)
class ConfirmEvent(Event):
    """A doubtful spoken request that would change something: ``asked`` (``question`` was
    said instead of acting), then ``confirmed`` (a "yes": it is carried out), ``declined`` (a
    "no") or ``expired`` (another request came, or no answer in time; ``turn`` null then).
    ``text`` is the request as transcribed."""

    type: ClassVar[str] = "confirm"
    state: str  # one of CONFIRM_STATES
    text: str
    question: str


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form (the server's clients, tests)."""
    fields = dict(data)
    cls = EVENT_TYPES[fields.pop("type")]
    return cls(**fields)
