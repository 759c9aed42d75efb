"""Hands-free listening: asleep (only the wake-word model hears the audio), awake, follow-up.

Why a gate in front of the listener: while asleep no VAD and no STT run (the idle CPU target),
and a question said without the wake word is never heard. On detection the turn's audio starts
at the detection point (less the model's lag, ``rewind_ms``), so "okay nabu what time is it"
said in one breath is answered without stripping words from a transcript Whisper spells many
ways.
After a reply the gate stays open for ``follow_up_s`` (a follow-up needs no wake word), then
sleeps. State changes come from the events the pipeline publishes (``observe``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from voicecli.core.clock import SAMPLE_RATE, PipelineClock
from voicecli.core.config import WakeConfig
from voicecli.core.events import (
    ASLEEP,
    AWAKE,
    FOLLOW_UP,
    Event,
    SpeechEnd,
    SpeechStart,
    Transcript,
    TurnMetrics,
    WakeState,
    WakeWordHeard,
)
from voicecli.listen.wake import WakeDetector, check_word, cutoff

#: What ``admit`` tells the listener to do with a frame (or it gives the audio after the
#: detection point: the listener starts the turn with it).
DROP, LISTEN = "drop", "listen"
#: Asleep, the model is fed 3 frames (96 ms) at a time: one wake-up of a cold model instead of
#: three costs 1.3 % of a core instead of 2.6 % (measured, docs/wake.md), for at most 64 ms
#: more wake latency. The detection point is unchanged (it is in the audio).
BATCH = 3


class WakeGate:
    def __init__(self, config: WakeConfig, chime: Callable[[], None] | None = None) -> None:
        word = check_word(config.word)
        self.detector = WakeDetector(word, cutoff(config, word), config.cooldown_s)
        self.word = word
        self.window_s = config.follow_up_s
        # the microphone's block: a batch arrives in one PortAudio callback (fewer wake-ups)
        self.capture_frames = BATCH
        self.chime = chime  # called on detection (the ``wake.chime`` setting is the caller's)
        # The 5-inference average crosses the cutoff 150-250 ms after the word ends (measured,
        # docs/wake.md): the turn starts that much before the crossing, or "what" is lost.
        self.rewind = int(config.rewind_ms / 1000 * SAMPLE_RATE)
        self._recent: deque[np.ndarray] = deque(maxlen=BATCH + -(-self.rewind // 512))
        self._batch: list[np.ndarray] = []
        self.state = ASLEEP
        self.deadline: float | None = None  # pipeline clock: sleep at this instant if idle
        self._lock = threading.RLock()  # emit may come back through observe
        self._emit: Callable[[Event], None] | None = None
        self._clock: PipelineClock | None = None
        self._announced = False
        self._fast = False
        self._declared = 0.0  # when the last turn was declared (pipeline clock)

    def bind(self, clock: PipelineClock, emit: Callable[[Event], None], fast: bool) -> None:
        """The pipeline's clock and event stream (the gate is made before the pipeline).
        ``fast`` input runs its clock ahead while a reply is made: the follow-up window then
        starts when the turn was declared (the reply takes no file time)."""
        self._clock, self._emit, self._fast = clock, emit, fast

    def close(self) -> None:
        self.detector.close()

    # -- listener thread -------------------------------------------------------------------
    def admit(self, samples: np.ndarray, idle: bool) -> str | np.ndarray:
        """One frame (its first sample at ``clock.now()``): DROP it (asleep), LISTEN, or --
        the wake word ended in it -- the audio from the detection point (less the rewind).
        ``idle``: no speech or undeclared turn in the listener, so the window may close."""
        now = self._clock.now()
        with self._lock:
            if not self._announced:
                self._announced = True
                self._set(ASLEEP, now, force=True)
            if self.state != ASLEEP:
                if not (idle and self.deadline is not None and now >= self.deadline):
                    return LISTEN
                self.detector.reset()
                self._recent.clear()
                self._batch.clear()
                self._set(ASLEEP, now)
        self._recent.append(samples)
        self._batch.append(samples)
        if len(self._batch) < BATCH:
            return DROP
        audio = np.concatenate(self._batch)
        self._batch.clear()
        found = self.detector.feed(audio)
        if found is None:
            return DROP
        late = self.detector.fed - found.sample  # samples from the detection to the batch's end
        t = now + (len(samples) - late) / SAMPLE_RATE
        recent = np.concatenate(self._recent)
        after = recent[max(0, len(recent) - late - self.rewind) :]
        self._recent.clear()
        self._emit(WakeWordHeard(t=t, word=found.word, probability=found.probability))
        if self.chime is not None:
            self.chime()
        with self._lock:
            self._set(AWAKE, t, self.window_s)
        return after

    # -- any thread (the pipeline's emit) ----------------------------------------------------
    def observe(self, event: Event) -> None:
        """Follow the conversation: speech holds the gate open, a finished turn opens the
        follow-up window."""
        if not isinstance(event, SpeechStart | SpeechEnd | Transcript | TurnMetrics):
            return
        with self._lock:
            if self.state == ASLEEP or self._clock is None:
                return
            now = self._clock.now()
            if isinstance(event, SpeechStart):
                self._set(AWAKE, now)  # a turn in progress: no deadline
            elif isinstance(event, Transcript) and event.final:
                self._declared = now
                self._set(AWAKE, now)
            elif isinstance(event, SpeechEnd):
                self.deadline = now + self.window_s  # an abandoned turn (noise) still sleeps
            elif isinstance(event, TurnMetrics):
                self._set(FOLLOW_UP, self._declared if self._fast else now, self.window_s)

    def _set(self, state: str, now: float, window_s: float | None = None, force=False) -> None:
        self.deadline = None if window_s is None else now + window_s
        changed = force or state != self.state or window_s is not None
        self.state = state
        if changed:
            self._emit(WakeState(t=now, state=state, word=self.word, seconds_left=window_s))
