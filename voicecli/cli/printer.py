"""Line printers for the event stream: ``--json`` (JSON Lines) and ``--plain`` (readable lines).

Why a stream captured at construction: pyttsx3 prints on stdout, so TTS swaps ``sys.stdout``
for a moment; the printer keeps writing to the real one.
"""

from __future__ import annotations

import sys
from typing import TextIO

from voicecli.cli.wake_view import phrase, wake_label
from voicecli.core.events import (
    ConfirmEvent,
    ErrorEvent,
    Event,
    Reply,
    TimerEvent,
    Transcript,
    TurnMetrics,
    WakeState,
    WakeWordHeard,
    WarningEvent,
)

LATENCY_LABELS = (
    ("eos_to_transcript_ms", "eos→transcript"),
    ("turn_wait_ms", "turn wait"),
    ("reply_ms", "reply"),
    ("tts_first_audio_ms", "tts first audio"),
    ("voice_to_voice_ms", "voice-to-voice"),
    ("stt_compute_ms", "stt compute"),
)


class JsonPrinter:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: Event) -> None:
        self.out.write(event.to_json() + "\n")
        self.out.flush()


CONFIRM_LABELS = {
    "asked": "asked before acting",
    "confirmed": "yes: done",
    "declined": "no: dropped",
    "expired": "no answer: dropped",
}


def confirm_label(event: ConfirmEvent) -> str:
    """ "asked before acting: Cancel all timers? (heard "cancel all timers")" and the like."""
    said = event.question if event.state == "asked" else f'"{event.text}"'
    heard = f' (heard "{event.text}")' if event.state == "asked" else ""
    return f"{CONFIRM_LABELS[event.state]}: {said}{heard}"


def format_plain(event: Event) -> str | None:
    """One readable line per event worth reading, None for the rest."""
    stamp = f"[{event.t:7.2f}] " if event.t is not None else "          "
    if isinstance(event, Transcript) and event.final:
        return f"{stamp}you: {event.text}"
    if isinstance(event, Reply) and event.final:
        return f"{stamp}assistant: {event.text}"
    if isinstance(event, TurnMetrics):
        parts = [
            f"{label} {value:.0f} ms"
            for name, label in LATENCY_LABELS
            if (value := getattr(event, name)) is not None
        ]
        return f"{stamp}latency: " + ", ".join(parts) if parts else None
    if isinstance(event, WarningEvent):
        return f"{stamp}warning: {event.message}"
    if isinstance(event, ErrorEvent):
        return f"{stamp}error{' (fatal)' if event.fatal else ''}: {event.message}"
    if isinstance(event, WakeWordHeard):
        return f"{stamp}wake word: {phrase(event.word)} ({event.probability:.2f})"
    if isinstance(event, WakeState):
        return f"{stamp}{wake_label(event, event.wall)}"
    if isinstance(event, ConfirmEvent):
        return f"{stamp}confirm: {confirm_label(event)}"
    if isinstance(event, TimerEvent):
        if event.fired:
            return f"{stamp}timer {event.label}: done"
        if event.cancelled:
            return f"{stamp}timer {event.label}: cancelled, {event.due_in_s:.0f} s left"
        return f"{stamp}timer {event.label}: set, due in {event.due_in_s:.0f} s"
    return None


class PlainPrinter:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: Event) -> None:
        line = format_plain(event)
        if line is not None:
            self.out.write(line + "\n")
            self.out.flush()
