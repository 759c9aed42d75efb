"""The pipeline: source -> listener (VAD, turns, STT) -> responder (brain, TTS) -> sink.

Why this object: it owns every thread one conversation needs, wires the bounded queues and
turns a failure escaping any stage into one fatal ``error`` event and a clean end. Models are
loaded once (``Engines``) and shared by every pipeline in the process.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from voicecli.audio.sink import AudioSink, NullSink
from voicecli.audio.source import AudioSource, EndOfUtterance
from voicecli.audio.vad import VadStream
from voicecli.core.bus import EventBus
from voicecli.core.clock import PipelineClock
from voicecli.core.config import Config
from voicecli.core.events import ErrorEvent, Event, Transcript
from voicecli.core.lifecycle import ManagedThread
from voicecli.listen.listener import Listener, UserTurn
from voicecli.listen.stt import SpeechToText
from voicecli.listen.stt_worker import SttWorker
from voicecli.listen.turn_model import TurnModel, load_turn_model
from voicecli.listen.wake_gate import WakeGate
from voicecli.reply.brain import BRAINS, Brain, Conversation
from voicecli.reply.responder import Announcement, Responder
from voicecli.reply.skills.stop import is_stop
from voicecli.reply.timers import TimerBoard
from voicecli.reply.tts import TextToSpeech
from voicecli.thermal.monitor import ThermalMonitor, active_monitor
from voicecli.thermal.system_stats import run_sampler

log = logging.getLogger(__name__)

FRAME_QUEUE = 64  # frames (about 2 s) between the source and the listener


@dataclass
class Engines:
    """The models, loaded once per process."""

    stt: SpeechToText
    tts: TextToSpeech
    turn_model: TurnModel | None = None  # None: turns decided by the transcript rules alone

    @classmethod
    def load(cls, config: Config) -> Engines:
        stt = SpeechToText(config.stt)
        tts = TextToSpeech(config.tts)
        VadStream(config.vad.engine)  # loads the shared VAD model now, not on the first frame
        return cls(stt=stt, tts=tts, turn_model=load_turn_model(config.turn))


class Pipeline:
    def __init__(
        self,
        *,
        config: Config,
        engines: Engines,
        source: AudioSource | None,
        bus: EventBus,
        sink: AudioSink | None = None,
        brain: Brain | None = None,
        fast: bool = False,
        stt_worker: SttWorker | None = None,
        session: str = "chat",
        conversation: Conversation | None = None,
        system_interval_s: float | None = 1.0,
        turn_numbers: Iterator[int] | None = None,  # a server session's, across its pipelines
        linger_s: float = 10.0,  # at the end of input, wait this long for timers due by then
        thermal: ThermalMonitor | None = None,  # default: the running one (active_monitor)
        wake: WakeGate | None = None,  # hands-free: a wake word opens the listener
    ) -> None:
        self.config = config
        self.bus = bus
        self.source = source
        self.sink = sink or NullSink()
        self.fast = fast
        self.wake = wake
        self.clock = PipelineClock(live=source is None or source.live)
        if source is None:  # typed only: no samples will come, wall time is the clock from now
            self.clock.run_free()
        self.fatal: ErrorEvent | None = None
        self.done = threading.Event()
        self._turn_numbers = turn_numbers or itertools.count(1)
        self._turn_lock = threading.Lock()
        self._own_stt = stt_worker is None
        self.stt = stt_worker or SttWorker(engines.stt, on_error=self._stage_failed)
        self.conversation = conversation or Conversation()
        self.linger_s = linger_s
        self.timers = TimerBoard(self.clock, self.emit, self.announce)
        self.conversation.timers = self.timers
        self.responder = Responder(
            brain=brain or BRAINS[config.brain.name](),
            tts=engines.tts,
            sink=self.sink,
            clock=self.clock,
            conversation=self.conversation,
            emit=self.emit,
            fast=fast,
        )
        self.listener = Listener(
            config=config,
            clock=self.clock,
            stt=self.stt,
            session=session,
            emit=self.emit,
            on_turn=self._deliver,
            next_turn_number=self.next_turn_number,
            fast=fast,
            turn_model=engines.turn_model,
            wake=wake,
        )
        if wake is not None:
            wake.bind(self.clock, self.bus.publish, fast)
        self.frames: queue.Queue = queue.Queue(FRAME_QUEUE)
        self.threads: list[ManagedThread] = []
        self._system_interval_s = system_interval_s
        self.thermal = thermal
        self._own_thermal = False  # started by this pipeline: stopped by it too

    # -- wiring ----------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        self.bus.publish(event)
        if self.wake is not None:
            self.wake.observe(event)

    def next_turn_number(self) -> int:
        with self._turn_lock:
            return next(self._turn_numbers)

    def _thread(self, name: str, target, *args) -> ManagedThread:
        thread = ManagedThread(name, target, *args, on_error=self._stage_failed)
        self.threads.append(thread)
        return thread

    def _stage_failed(self, thread: ManagedThread, exc: BaseException) -> None:
        """An exception escaped a stage: one fatal error event, and the pipeline ends."""
        if self.fatal is None:
            self.fatal = ErrorEvent(
                t=self.clock.now(),
                code="stage_failed",
                message=f"{thread.name} stage failed: {exc!r}",
                fatal=True,
            )
            self.emit(self.fatal)
        self.done.set()

    def apply_thermal(self, protection) -> None:
        """Thermal protection on or off (from the monitor thread, in the poll that changed
        the state): each stage takes its own action (docs/thermal.md)."""
        self.listener.apply_thermal(protection)
        self.responder.apply_thermal(protection)
        self.stt.engine.limit_threads(protection.stt_threads)
        if hasattr(self.responder.brain, "apply_thermal"):  # an LLM brain
            self.responder.brain.apply_thermal(protection)

    def start(self) -> Pipeline:
        if self.thermal is None:
            self.thermal = active_monitor()
        elif not self.thermal.running:  # given a monitor not yet started: it lives with us
            self.thermal.start()
            self._own_thermal = True
        if self.thermal is not None:
            self.thermal.watch(self.apply_thermal)
        if self._own_stt:
            self.stt.start()
        if self.source is not None:
            self._thread("source", self.source.run, self.frames)
            self._thread("listener", self.listener.run, self.frames)
        self._thread("responder", self.responder.run, self.done.set)
        self._thread("timers", self.timers.run)
        if self._system_interval_s:
            self._thread("system", run_sampler, self.emit, self._system_interval_s, self.thermal)
        for thread in self.threads:
            thread.start()
        return self

    # -- use -------------------------------------------------------------------------------
    def submit_text(self, text: str) -> UserTurn:
        """A typed turn: no speech, straight to the responder."""
        now = time.monotonic()
        turn = UserTurn(
            number=self.next_turn_number(),
            text=text,
            typed=True,
            t_turn=self.clock.now(),
            wall_turn=now,
        )
        self.emit(Transcript(t=turn.t_turn, turn=turn.number, text=text, final=True))
        self._deliver(turn)
        return turn

    def _deliver(self, turn: UserTurn | EndOfUtterance | None) -> None:
        """A declared turn to the responder; "stop" first cuts the reply being spoken. None
        (end of input): the clock runs on with wall time, and once the last reply is made the
        timers due within ``linger_s`` fire; the rest are reported cancelled, then the end.
        EndOfUtterance (a live session's ``end``): its ``then`` runs after the pending replies;
        the pipeline goes on."""
        if turn is None:
            self.clock.run_free()
            self.responder.after_pending(self._linger)
            return
        if isinstance(turn, EndOfUtterance):
            self.responder.after_pending(turn.then)
            return
        if is_stop(turn.text):
            self.interrupt()
        self.responder.turns.put(turn)

    def _linger(self) -> None:
        self.timers.finish(self.linger_s, then=lambda: self.responder.turns.put(None))

    def announce(self, text: str) -> None:
        """Speak ``text`` through the responder (TTS and sink) after the reply being made."""
        self.responder.turns.put(Announcement(text))

    def interrupt(self) -> bool:
        """Barge-in or the ``interrupt`` command: stop the reply being made and its playback
        at once (``playback`` cut); False when nothing was being said."""
        interrupted = self.responder.interrupt()
        return self.sink.cut() or interrupted  # the speaker may still be playing a made reply

    def end_input(self) -> None:
        """No more input (typed-only use): finish the pending replies, then end."""
        self._deliver(None)

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def stop(self) -> None:
        for thread in self.threads:
            thread.stop()
        self.sink.cut()  # a responder waiting for a reply to be heard wakes up at once

    def close(self, timeout: float = 5.0) -> bool:
        """Stop every thread and wait for them; True when all ended in time. Timers still
        running are reported cancelled."""
        self.timers.cancel_all()
        self.stop()
        ok = all([thread.join(timeout) for thread in self.threads])
        if self.thermal is not None:
            if self._own_thermal:  # stopping releases the protection (and tells us)
                ok = self.thermal.stop(timeout) and ok
            self.thermal.unwatch(self.apply_thermal)
        if self._own_stt:
            ok = self.stt.stop(timeout) and ok
        self.sink.close()
        if self.wake is not None:
            self.wake.close()
        return ok
