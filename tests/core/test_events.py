"""Events: round trip through JSON, and the schema in docs/events.md accepts exactly them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from support.schema import validate_event

from voicecli.core import events as ev

SAMPLES = [
    ev.SpeechStart(t=0.5, turn=1),
    ev.SpeechEnd(t=1.2, turn=1),
    ev.Transcript(t=1.6, turn=1, text="What time is it?", final=True),
    ev.Reply(t=1.7, turn=1, text="It's 4:07 AM.", final=False),
    ev.Playback(t=1.7, turn=1, state="started"),
    ev.TurnMetrics(
        t=1.8,
        turn=1,
        eos_to_transcript_ms=210.0,
        turn_wait_ms=400.0,
        reply_ms=1.0,
        tts_first_audio_ms=15.0,
        voice_to_voice_ms=416.0,
        stt_compute_ms=180.0,
    ),
    ev.SystemStats(
        cpu_percent=50.0,
        process_cpu_percent=90.0,
        rss_mb=400.0,
        mem_percent=3.0,
        cpu_freq_mhz=None,
        load_1m=0.5,
    ),
    ev.WarningEvent(code="events_dropped", message="3 events dropped", count=3),
    ev.ErrorEvent(t=2.0, code="stage_failed", message="listener failed", fatal=True),
    ev.Transcript(
        t=3.1, turn=2, text="Cancel all timers.", final=True, avg_logprob=-1.3, no_speech_prob=0.02
    ),
    ev.ConfirmEvent(
        t=3.2, turn=2, state="asked", text="Cancel all timers.", question="Cancel all timers?"
    ),
    ev.ConfirmEvent(
        t=13.2, state="expired", text="Cancel all timers.", question="Cancel all timers?"
    ),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_round_trip_and_schema(event):
    data = json.loads(event.to_json())
    assert data["type"] == event.type
    validate_event(data)
    back = ev.from_dict(data)
    assert type(back) is type(event)
    assert back.to_dict() == event.to_dict()


@pytest.mark.parametrize(
    "data",
    [
        {"type": "transcript", "t": 1.0, "wall": 1.0, "turn": 1, "final": True},
        {"type": "playback", "t": 1.0, "wall": 1.0, "turn": 1, "state": "paused"},
        {
            "type": "error",
            "t": 1.0,
            "wall": 1.0,
            "turn": None,
            "code": "Bad Code",
            "message": "x",
            "fatal": False,
        },
        {"type": "nonsense", "t": 1.0, "wall": 1.0, "turn": None},
        {
            "type": "confirm",
            "t": 1.0,
            "wall": 1.0,
            "turn": 1,
            "state": "maybe",
            "text": "stop",
            "question": "Should I stop?",
        },
        {
            "type": "transcript",
            "t": 1.0,
            "wall": 1.0,
            "turn": 1,
            "text": "hi",
            "final": True,
            "avg_logprob": -0.5,
            "no_speech_prob": 1.5,
        },
        {"type": "speech_start", "t": 1.0, "wall": 1.0, "turn": 1, "extra": 3},
    ],
)
def test_schema_rejects_malformed_events(data):
    with pytest.raises(jsonschema.ValidationError):
        validate_event(data)


def test_events_are_frozen():
    event = SAMPLES[2]
    with pytest.raises(AttributeError):
        event.text = "changed"
