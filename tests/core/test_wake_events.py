"""The hands-free events: JSON round trip, the schema in docs/events.md, and how the
``--plain`` printer and the dashboard say them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from support.schema import validate_event

from voicecli.cli.dashboard_state import DashboardState
from voicecli.cli.printer import format_plain
from voicecli.cli.wake_view import wake_label
from voicecli.core import events as ev
from voicecli.core.events import WakeState, WakeWordHeard

SAMPLES = [
    WakeWordHeard(t=3.2, word="okay_nabu", probability=0.93),
    WakeState(t=0.0, state="asleep", word="hey_jarvis"),
    WakeState(t=3.2, state="awake", word="alexa", seconds_left=5.0),
    WakeState(t=7.0, state="follow_up", word="hey_mycroft", seconds_left=5.0),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.type}-{getattr(e, 'state', '')}")
def test_round_trip_and_schema(event):
    data = json.loads(event.to_json())
    validate_event(data)
    assert ev.from_dict(data).to_dict() == event.to_dict()


@pytest.mark.parametrize(
    "data",
    [
        {"type": "wake", "t": 1.0, "wall": 1.0, "turn": None, "word": "computer", "probability": 1},
        {"type": "wake", "t": 1.0, "wall": 1.0, "turn": None, "word": "alexa", "probability": 2},
        {"type": "wake_state", "t": 1.0, "wall": 1.0, "turn": None, "state": "dozing",
         "word": "alexa", "seconds_left": None},
    ],
)  # fmt: skip
def test_schema_rejects_malformed_wake_events(data):
    with pytest.raises(jsonschema.ValidationError):
        validate_event(data)


def test_labels_count_down_the_follow_up_window():
    state = WakeState(t=7.0, wall=100.0, state="follow_up", word="okay_nabu", seconds_left=5.0)
    assert wake_label(state, now=100.0) == "follow-up 5 s left"
    assert wake_label(state, now=102.2) == "follow-up 3 s left"
    assert wake_label(state, now=106.0) == "follow-up 0 s left"
    asleep = WakeState(t=0.0, state="asleep", word="okay_nabu")
    assert wake_label(asleep) == 'asleep, say "okay nabu"'
    assert format_plain(SAMPLES[0]) == "[   3.20] wake word: okay nabu (0.93)"
    assert format_plain(SAMPLES[2]) == "[   3.20] awake, 5 s left"


def test_dashboard_keeps_the_last_state():
    dashboard = DashboardState()
    for event in SAMPLES:
        dashboard.apply(event)
    assert dashboard.wake is SAMPLES[-1]
