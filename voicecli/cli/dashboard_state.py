"""What the dashboard shows, folded from the event stream (no drawing here).

Why apart from the drawing: the state is plain data that tests can feed events into, and the
refresh thread draws a consistent snapshot of it under one lock.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from voicecli.core.events import (
    BargeIn,
    ConfirmEvent,
    Echo,
    ErrorEvent,
    Event,
    Level,
    MicState,
    Playback,
    Reply,
    SpeechEnd,
    SpeechStart,
    SystemStats,
    Transcript,
    TurnMetrics,
    WakeState,
    WarningEvent,
)

LISTENING, HEARING, THINKING, SPEAKING, MUTED = (
    "listening",
    "hearing you",
    "thinking",
    "speaking",
    "muted",
)


@dataclass
class Line:
    who: str  # "you" | "assistant"
    text: str
    final: bool
    turn: int | None


@dataclass
class DashboardState:
    conversation: deque[Line] = field(default_factory=lambda: deque(maxlen=40))
    activity: str = LISTENING
    muted: bool = False
    level_db: float = -100.0
    peak_db: float = -100.0
    metrics: deque[TurnMetrics] = field(default_factory=lambda: deque(maxlen=5))
    history: deque[float] = field(default_factory=lambda: deque(maxlen=24))  # voice-to-voice
    system: SystemStats | None = None
    alerts: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=4))
    barge_ins: int = 0
    wake: WakeState | None = None  # hands-free state (chat --wake-word)
    echo: Echo | None = None  # the echo canceller's latest state (--echo-cancel)
    confirm: ConfirmEvent | None = None  # the last ``confirm`` event (a question pending: asked)
    version: int = 0  # bumped by every change the screen shows, but the level's
    level_version: int = 0  # bumped when the level moved by 1 dB or more
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def state(self) -> str:
        return MUTED if self.muted else self.activity

    def apply(self, event: Event) -> None:
        with self.lock:
            if self._apply(event):
                self.version += 1

    def _apply(self, event: Event) -> bool:  # noqa: C901 - one branch per event type
        if isinstance(event, Level):
            if abs(event.rms_db - self.level_db) >= 1.0:
                self.level_version += 1
            self.level_db, self.peak_db = event.rms_db, event.peak_db
            return False
        if isinstance(event, MicState):
            self.muted = event.muted
        elif isinstance(event, SpeechStart):
            self.activity = HEARING if self.activity != SPEAKING else self.activity
        elif isinstance(event, SpeechEnd):
            self.activity = LISTENING if self.activity == HEARING else self.activity
        elif isinstance(event, Transcript):
            self._user_words(event)
        elif isinstance(event, Reply):
            self._assistant_words(event)
        elif isinstance(event, Playback):
            self.activity = SPEAKING if event.state == "started" else LISTENING
        elif isinstance(event, TurnMetrics):
            self.metrics.append(event)
            if event.voice_to_voice_ms is not None:
                self.history.append(event.voice_to_voice_ms)
            if self.activity == THINKING:
                self.activity = LISTENING
        elif isinstance(event, SystemStats):
            self.system = event
        elif isinstance(event, WarningEvent):
            self.alerts.append(("warning", event.message))
        elif isinstance(event, ErrorEvent):
            self.alerts.append(("error", event.message))
        elif isinstance(event, BargeIn):
            self.barge_ins += 1
        elif isinstance(event, WakeState):
            self.wake = event
        elif isinstance(event, Echo):
            self.echo = event
        elif isinstance(event, ConfirmEvent):
            self.confirm = event
        else:
            return False
        return True

    def _line(self, who: str, turn: int | None) -> Line | None:
        for line in reversed(self.conversation):
            if line.who == who and line.turn == turn and not line.final:
                return line
        return None

    def _user_words(self, event: Transcript) -> None:
        line = self._line("you", event.turn)
        if line is None:
            line = Line("you", "", False, event.turn)
            self.conversation.append(line)
        line.text, line.final = event.text, event.final
        if event.final:
            self.activity = THINKING

    def _assistant_words(self, event: Reply) -> None:
        line = self._line("assistant", event.turn)
        if event.final:
            if line is None:
                line = Line("assistant", "", True, event.turn)
                self.conversation.append(line)
            line.text, line.final = event.text, True
            if self.activity == THINKING:
                self.activity = LISTENING
            return
        if line is None:
            self.conversation.append(Line("assistant", event.text, False, event.turn))
        else:
            line.text = f"{line.text} {event.text}".strip()
