"""The pipeline: source -> listener (VAD, turns, STT) -> responder (brain, TTS) -> sink.

Why this object: it owns every thread one conversation needs, wires the bounded queues and
turns a failure escaping any stage into one fatal ``error`` event and a clean end. Models are
loaded once (``Engines``) and shared by every pipeline in the process. What the stages hand
each other is typed (core.messages); the pipeline routes the listener's messages to the
responder, and every "stop talking" goes through its ``interrupt`` (the playback line's).
"""

from __future__ import annotations

import itertools
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from voicecli.audio.playback import PlaybackLine
from voicecli.audio.sink import AudioSink, NullSink
from voicecli.audio.source import AudioSource
from voicecli.audio.vad import VadStream
from voicecli.core.bus import EventBus
from voicecli.core.clock import PipelineClock
from voicecli.core.config import Config
from voicecli.core.events import ErrorEvent, Event, Transcript
from voicecli.core.lifecycle import ManagedThread
from voicecli.core.messages import (
    SHUTDOWN,
    STOP_TURN,
    STOP_WORD,
    Announcement,
    EndOfInput,
    EndOfUtterance,
    Hangup,
    HeardWord,
    Interrupt,
    ListenerMessage,
    SourceMessage,
    UserTurn,
)
from voicecli.listen.listener import Listener
from voicecli.listen.stt import SpeechToText
from voicecli.listen.stt_worker import SttWorker
from voicecli.listen.turn_model import TurnModel, load_turn_model
from voicecli.listen.wake_gate import WakeGate
from voicecli.pipeline.barge import BargeDecider
from voicecli.reply.bias import bias_for
from voicecli.reply.brain import BRAINS, Brain
from voicecli.reply.confirm import Confirmer
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.responder import Responder
from voicecli.reply.skills import SKILLS
from voicecli.reply.skills.stop import is_stop
from voicecli.reply.timers import TimerBoard
from voicecli.reply.tts import TextToSpeech
from voicecli.thermal.monitor import ThermalMonitor, ThermalStatus
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
        thermal: ThermalMonitor | None = None,  # not started yet: it lives with this pipeline
        on_utterance_answered: Callable[[], None] | None = None,  # a live client's ``end``
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
        self._done_hooks: list[Callable[[], None]] = []
        self._turn_numbers = turn_numbers or itertools.count(1)
        self._turn_lock = threading.Lock()
        self._own_stt = stt_worker is None
        self.stt = stt_worker or SttWorker(engines.stt, on_error=self._stage_failed)
        self.conversation = conversation or Conversation()
        self.bias = bias_for(config)  # None: stt.bias = "off"
        if self.bias is not None and self.conversation.last_user():  # a session's next stream
            self.bias.heard(self.conversation.last_user())
        self.linger_s = linger_s
        self.timers = TimerBoard(self.clock, self.emit, self.announce)
        self.thermal = thermal
        self._own_thermal = False  # started by this pipeline: stopped by it too
        self.on_utterance_answered = on_utterance_answered or (lambda: None)
        self.context = SkillContext(
            conversation=self.conversation, timers=self.timers, thermal=self._thermal_reading
        )
        self.playback = PlaybackLine(self.sink, self.emit, self.clock.now)
        brain = brain or BRAINS[config.brain.name]()
        self.confirm = Confirmer(
            config.confirm,
            getattr(brain, "skills", SKILLS),
            self.context,
            self.emit,
            self.clock.now,
        )
        self.responder = Responder(
            brain=brain,
            tts=engines.tts,
            playback=self.playback,
            clock=self.clock,
            context=self.context,
            emit=self.emit,
            fast=fast,
            on_answered=self._answered,
            confirm=self.confirm,
        )
        self.barge = BargeDecider(self.playback, config.barge_in.decide_s)
        self.listener = Listener(
            config=config,
            clock=self.clock,
            stt=self.stt,
            session=session,
            emit=self.emit,
            deliver=self._deliver,
            next_turn_number=self.next_turn_number,
            fast=fast,
            turn_model=engines.turn_model,
            wake=wake,
            prompt=self.bias.prompt if self.bias is not None else None,
        )
        self.listener.wait_floor = self.barge.turn_wait_floor
        if wake is not None:
            wake.bind(self.clock, self.bus.publish, fast)
        self.frames: queue.Queue[SourceMessage] = queue.Queue(FRAME_QUEUE)
        self._threads: list[ManagedThread] = []
        self._system_interval_s = system_interval_s

    # -- wiring ----------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        self.bus.publish(event)
        self.barge.observe(event)
        if self.wake is not None:
            self.wake.observe(event)

    def next_turn_number(self) -> int:
        with self._turn_lock:
            return next(self._turn_numbers)

    def _thread(self, name: str, target, *args) -> ManagedThread:
        thread = ManagedThread(name, target, *args, on_error=self._stage_failed)
        self._threads.append(thread)
        return thread

    def _thermal_reading(self) -> ThermalStatus | None:
        """The latest thermal reading, for the skills (SkillContext.thermal)."""
        return self.thermal.status if self.thermal is not None else None

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
        self._end()

    def apply_thermal(self, protection) -> None:
        """Thermal protection on or off (from the monitor thread, in the poll that changed
        the state): each stage takes its own action (docs/thermal.md)."""
        self.listener.apply_thermal(protection)
        self.responder.apply_thermal(protection)
        self.stt.engine.limit_threads(protection.stt_threads)
        if hasattr(self.responder.brain, "apply_thermal"):  # an LLM brain
            self.responder.brain.apply_thermal(protection)

    def start(self) -> Pipeline:
        if self.thermal is not None and not self.thermal.running:  # it lives with us
            self.thermal.start()
            self._own_thermal = True
        if self.thermal is not None:
            self.thermal.watch(self.apply_thermal)
        if self._own_stt:
            self.stt.start()
        if self.source is not None:
            self._thread("source", self.source.run, self.frames)
            self._thread("listener", self.listener.run, self.frames)
        if self.source is not None:  # barge-ins come from what is heard
            self._thread("barge", self.barge.run)
        self._thread("responder", self.responder.run, self._end)
        self._thread("timers", self.timers.run)
        if self._system_interval_s:
            self._thread("system", run_sampler, self.emit, self._system_interval_s, self.thermal)
        for thread in self._threads:
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

    def _deliver(self, message: ListenerMessage) -> None:
        """The listener's messages to the responder. A turn that says "stop" first cuts the
        reply being spoken; a short word heard over the reply cuts it when it says "stop".
        EndOfInput: the clock runs on with wall time, and once the last reply is made the
        timers due within ``linger_s`` fire; the rest are reported cancelled, then the end."""
        if isinstance(message, HeardWord):
            words = re.sub(r"[^a-z ]", " ", message.text.lower()).split()
            if is_stop(message.text) or words[:1] == ["stop"]:  # "Stop you." is still a stop
                request = Interrupt(
                    STOP_WORD, wall=message.wall, speech_ms=message.speech_ms, text=message.text
                )
                self.interrupt(request)
            return
        if isinstance(message, UserTurn) and self.bias is not None:
            self.bias.heard(message.text)  # the next utterance is heard in its light
        if isinstance(message, UserTurn) and self.barge.take(message):
            return  # a backchannel over the reply: it plays on, nothing to answer
        if isinstance(message, EndOfInput):
            self.clock.run_free()
        elif (
            isinstance(message, UserTurn)
            and is_stop(message.text)
            and not self.confirm.doubts(message)  # a doubtful "stop" is asked about first
        ):
            self.interrupt(Interrupt(STOP_TURN))
        self.responder.turns.put(message)

    def _answered(self, marker: EndOfUtterance | EndOfInput) -> None:
        """In the responder, once every reply before ``marker`` is made."""
        if isinstance(marker, EndOfUtterance):
            self.on_utterance_answered()
        else:
            self.timers.finish(self.linger_s, then=lambda: self.responder.turns.put(Hangup()))

    def announce(self, text: str) -> None:
        """Speak ``text`` through the responder (TTS and sink) after the reply being made."""
        self.responder.turns.put(Announcement(text))

    def hear(self, word: SourceMessage) -> bool:
        """A message for the listener from outside the source (the echo guard's short words);
        False when the listener is too far behind and it was dropped."""
        try:
            self.frames.put_nowait(word)
        except queue.Full:
            return False
        return True

    def interrupt(self, request: Interrupt) -> bool:
        """Stop speaking now, whoever asks (see core.messages for the causes): the reply being
        made is cancelled and its playback cut, ``playback`` cut is emitted once. False when
        nothing was being said."""
        return self.playback.interrupt(request)

    def barge_in(self, request: Interrupt) -> None:
        """Speech over the reply: paused until what was said decides (pipeline.barge)."""
        self.barge.barge_in(request)

    def end_input(self) -> None:
        """No more input (typed-only use): finish the pending replies, then end."""
        self._deliver(EndOfInput())

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def on_done(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (quick) when the pipeline ends -- at once if it has: a foreground
        runner waits on one event instead of polling."""
        self._done_hooks.append(hook)
        if self.done.is_set():
            hook()

    def _end(self) -> None:
        self.done.set()
        for hook in list(self._done_hooks):
            hook()

    @property
    def running(self) -> bool:
        """Some thread of this pipeline is still alive."""
        return any(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        """Ask every thread to stop (not waiting): queued transcriptions are dropped and a
        responder waiting for a reply to be heard wakes up at once."""
        self.listener.cancel_jobs()
        for thread in self._threads:
            thread.stop()
        self.interrupt(Interrupt(SHUTDOWN))

    def close(self, timeout: float = 5.0) -> bool:
        """Stop every thread and wait for them; True when all ended in time. Timers still
        running are reported cancelled."""
        self.timers.cancel_all()
        self.stop()
        ok = all([thread.join(timeout) for thread in self._threads])
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
