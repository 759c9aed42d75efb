"""The fast stage layer: run one stage alone, feed it typed messages, record what it emits.

Why: a stage's contract is the messages it takes and gives (core.messages). The listener runs
with the real STT worker and, unless a test pins it with scripted speech probabilities, the
real VAD; the responder runs with the real TTS. The real-model end-to-end tests (tests/pipeline,
``-m slow``, ``-m live``) stay the slow layer.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable

import numpy as np

from voicecli.audio.playback import PlaybackLine
from voicecli.audio.sink import AudioSink
from voicecli.core.audio_format import FRAME
from voicecli.core.clock import PipelineClock
from voicecli.core.config import Config
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import Frame, Hangup, ListenerMessage, ResponderMessage, SourceMessage
from voicecli.listen.listener import Listener
from voicecli.listen.stt_worker import SttWorker
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.brain import Brain, SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.responder import Responder
from voicecli.reply.tts import TTS_RATE


def frames_of(audio: np.ndarray) -> list[Frame]:
    """``audio`` (16 kHz float32) as the source would send it: 512-sample frames, the last
    zero-padded."""
    padded = np.pad(audio.astype(np.float32), (0, -len(audio) % FRAME))
    now = time.monotonic()
    return [Frame(padded[i : i + FRAME], now) for i in range(0, len(padded), FRAME)]


class ScriptedVad:
    """Speech probabilities from a script, one per frame (0.0 once it runs out)."""

    def __init__(self, probabilities: Iterable[float]) -> None:
        self._next = iter(probabilities)

    def probability(self, _samples: np.ndarray) -> float:
        return next(self._next, 0.0)


class ListenerStage:
    """A Listener with the real STT worker: ``run(messages)`` -> what it delivered."""

    def __init__(
        self,
        engines: Engines,
        probabilities: Iterable[float] | None = None,
        config: Config | None = None,
        fast: bool = True,
    ) -> None:
        self.worker = SttWorker(engines.stt)
        self.events: list = []
        self.delivered: list[ListenerMessage] = []
        self.listener = Listener(
            config=config or Config(),
            clock=PipelineClock(live=not fast),
            stt=self.worker,
            session="stage",
            emit=self.events.append,
            deliver=self.delivered.append,
            next_turn_number=itertools.count(1).__next__,
            fast=fast,
        )
        if probabilities is not None:
            self.listener.vad = ScriptedVad(probabilities)

    def run(
        self,
        messages: Iterable[SourceMessage],
        timeout: float = 60.0,
        until: Callable[[list], bool] | None = None,
    ) -> list:
        """Feed ``messages`` in order; returns the listener's messages once it has ended (at
        ``EndOfInput``), once ``until(delivered)`` holds, or after ``timeout``."""
        frames: queue.Queue[SourceMessage] = queue.Queue()
        for message in messages:
            frames.put(message)
        self.worker.start()
        thread = ManagedThread("listener", self.listener.run, frames).start()
        deadline = time.monotonic() + timeout
        try:
            while thread.is_alive() and time.monotonic() < deadline:
                if until is not None and until(self.delivered):
                    break
                time.sleep(POLL_S)
        finally:
            assert thread.stop_and_join(5.0)
            assert self.worker.stop()
        return self.delivered

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.type == kind]


class PlayingSink(AudioSink):
    """A sink that plays in real time, as a speaker does, without a sound device: written audio
    is heard from when it arrives at ``rate``; ``end_reply`` waits until it has been heard;
    ``cut`` silences it at once and notes when (``silent_at``)."""

    name = "playing"

    def __init__(self, rate: int = TTS_RATE) -> None:
        self.rate = rate
        self._cond = threading.Condition()
        self._until = 0.0  # monotonic time the audio written so far ends
        self._in_reply = False
        self._discard = False  # the reply was cut: drop the rest of it
        self.heard_s = 0.0  # audio written and not discarded
        self._paused_left: float | None = None  # paused: the audio still to play
        self.resumes = 0

    def _write(self, pcm: np.ndarray) -> None:
        with self._cond:
            if self._discard:
                return
            self._in_reply = True
            seconds = len(pcm) / self.rate
            self._until = max(time.monotonic(), self._until) + seconds
            self.heard_s += seconds

    def end_reply(self, wait: bool = True) -> str | None:
        """``wait=False``: only mark the reply's end (``connect`` on its event loop)."""
        with self._cond:
            while wait and not self._discard and (self._left() > 0 or self._paused_left):
                self._cond.wait(POLL_S)
            cut, self._discard, self._in_reply = self._discard, False, False
        return "cut" if cut else None

    def _left(self) -> float:
        return self._until - time.monotonic()

    def write(self, pcm: np.ndarray) -> None:
        with self._cond:
            if self._paused_left is not None and not self._discard:
                self._in_reply = True
                self._paused_left += len(pcm) / self.rate
                self.heard_s += len(pcm) / self.rate
                return
        self._write(pcm)

    def pause(self) -> bool:
        """Silent now; what was left (and what is written meanwhile) plays on ``resume``."""
        with self._cond:
            now = time.monotonic()
            self._paused_left = max(0.0, self._until - now)
            self._until = now
            self.silent_at = now
            self._cond.notify_all()
        return True

    def resume(self) -> None:
        with self._cond:
            if self._paused_left is None:
                return
            self._until = time.monotonic() + self._paused_left
            self._paused_left = None
            self.resumes += 1

    def cut(self) -> bool:
        with self._cond:
            now = time.monotonic()
            audible = now < self._until or bool(self._paused_left)
            self._paused_left = None
            self._until = min(self._until, now)
            if audible:
                self.silent_at = now
            self._discard = self._in_reply
            self._cond.notify_all()
        return audible

    @property
    def playing(self) -> bool:
        return time.monotonic() < self._until


class ResponderStage:
    """A Responder with the real TTS: ``run(messages)`` -> its events and the markers it
    reported answered, in one ordered log."""

    def __init__(self, engines: Engines, brain: Brain | None = None, sink=None) -> None:
        self.log: list = []  # events and answered markers, in the order they happened
        self.sink = sink or PlayingSink()
        clock = PipelineClock(live=True)
        self.line = PlaybackLine(self.sink, self.log.append, clock.now)
        self.responder = Responder(
            brain=brain or SkillsBrain(),
            tts=engines.tts,
            playback=self.line,
            clock=clock,
            context=SkillContext(Conversation()),
            emit=self.log.append,
            fast=False,
            on_answered=self.log.append,
        )
        self.ended = threading.Event()
        self.thread: ManagedThread | None = None

    def start(self) -> ResponderStage:
        self.thread = ManagedThread("responder", self.responder.run, self.ended.set).start()
        return self

    def put(self, *messages: ResponderMessage) -> None:
        for message in messages:
            self.responder.turns.put(message)

    def finish(self, timeout: float = 60.0) -> list:
        """Send ``Hangup`` and wait for the stage to end; returns the log."""
        self.put(Hangup())
        ended = self.ended.wait(timeout)
        assert self.thread.stop_and_join(5.0)
        assert ended, "the responder did not end at Hangup"
        return self.log

    def wait_for(self, kind: str, timeout: float = 30.0, **match):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in list(self.log):
                if getattr(entry, "type", None) == kind and all(
                    getattr(entry, k) == v for k, v in match.items()
                ):
                    return entry
            time.sleep(0.005)
        raise AssertionError(f"no {kind} {match} within {timeout} s: {self.log}")
