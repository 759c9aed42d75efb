"""One client's WebSocket attached to a session: runs the session's pipeline while it lives.

Why per connection: each session gets its own pipeline (VAD state, turn detector, responder,
timers) over the shared models. It starts when the client attaches and is closed when the
socket goes: its threads are asked to stop and are joined in the background
(``Teardowns``), so the connection's slot is free at once and a detached session soon holds
no thread. ``end`` declares the open turn without ending the pipeline; once the replies before
it are made the client gets ``done`` and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from voicecli.core.config import Config
from voicecli.core.events import ErrorEvent, Event, SpeechStart, WarningEvent
from voicecli.core.messages import CLIENT, SPEECH, Interrupt
from voicecli.listen.stt_worker import SttWorker
from voicecli.pipeline.pipeline import Engines, Pipeline
from voicecli.reply.brain import Brain
from voicecli.server import protocol
from voicecli.server.bridge import Inbox, LoopBus, SocketSink, SocketSource, call_in_loop
from voicecli.server.outbox import MAX_AUDIO_BYTES, Outbox, pump
from voicecli.server.protocol import BadMessage, Close
from voicecli.server.session import Session
from voicecli.server.teardown import Teardowns
from voicecli.thermal.monitor import ThermalMonitor

log = logging.getLogger(__name__)

SUPERVISE_S = 0.05  # how often a connection checks whether its pipeline ended
STOP_TIMEOUT_S = 5.0  # a pipeline's threads get this long to end


@dataclass
class Shared:
    """What every session uses and none owns: settings, models, the STT worker, the brain."""

    config: Config
    engines: Engines
    stt: SttWorker
    brain: Brain
    teardowns: Teardowns
    outbox_audio_bytes: int = MAX_AUDIO_BYTES
    thermal: ThermalMonitor | None = None  # the server's running monitor, if any


async def settle(loop: asyncio.AbstractEventLoop) -> None:
    """Let the callbacks already queued on the loop run first: events that pipeline threads
    posted before now (a fatal error) are then in the outbox."""
    future = loop.create_future()
    loop.call_soon(future.set_result, None)
    await future


class Connection:
    def __init__(self, ws, session: Session, rate: int, shared: Shared) -> None:
        self.ws = ws
        self.session = session
        self.rate = rate
        self.shared = shared
        self.loop = asyncio.get_running_loop()
        self.outbox = Outbox(max_audio_bytes=shared.outbox_audio_bytes)
        self.send_lock = asyncio.Lock()
        self.inbox = Inbox(rate)
        self.bus = LoopBus(self.loop, self._on_event)
        self.pipeline: Pipeline | None = None
        self.sink: SocketSink | None = None
        self.finished = asyncio.Event()  # set by the server once the session is detached
        self._reader: asyncio.Task | None = None
        self._closing: asyncio.Task | None = None
        self._playing_until = 0.0  # loop time at which the audio sent so far has been played
        self._in_dropped = 0

    # -- life ------------------------------------------------------------------------------
    async def run(self, resumed: bool) -> None:
        """Serve the client until the socket closes; the pipeline is asked to stop on the way
        out and joined in the background (``Shared.teardowns``)."""
        session = self.session
        await self.shared.teardowns.room(session.id)
        try:
            async with self.send_lock:
                await self.ws.send(
                    protocol.ready(session.id, resumed, session.history_turns, self.rate)
                )
        except ConnectionClosed:
            return
        self._start_pipeline()
        tasks = [
            asyncio.create_task(pump(self.outbox, self.ws, self.send_lock, self._audio_sent)),
            asyncio.create_task(self._supervise()),
        ]
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait({self._reader})
            if not self._reader.cancelled():
                failure = self._reader.exception()
                if failure is not None and not isinstance(failure, ConnectionClosed):
                    await self._fail(failure)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._stop_pipeline()

    def close(self, code: Close, reason: str) -> None:
        """Close the socket in the background (a dead peer must not hold the session up)
        and stop reading at once."""
        if self._closing is None:
            self._closing = asyncio.create_task(self.ws.close(code, reason))
        if self._reader is not None:
            self._reader.cancel()

    async def take_over(self) -> None:
        """A newer connection resumed this session: close with 4409 and wait until detached."""
        self.close(Close.TAKEN_OVER, "session taken over by a newer connection")
        await self.finished.wait()

    async def _fail(self, exc: BaseException) -> None:
        """A bug in this connection's own code: tell the client (fatal) and close with 1011."""
        log.error("session %s failed: %r", self.session.id, exc, exc_info=exc)
        message = f"session failed: {exc!r}"
        self.outbox.put_control(
            ErrorEvent(code="session_failed", message=message, fatal=True).to_json()
        )
        await self.outbox.drained(2.0)
        self.close(Close.STAGE_FAILED, "session failed")

    # -- the pipeline ----------------------------------------------------------------------
    def _start_pipeline(self) -> None:
        shared = self.shared
        self.sink = SocketSink(self.loop, self._on_audio, self.rate)
        self.pipeline = Pipeline(
            config=shared.config,
            engines=shared.engines,
            source=SocketSource(self.inbox),
            bus=self.bus,
            sink=self.sink,
            brain=shared.brain,
            stt_worker=shared.stt,
            session=self.session.id,
            conversation=self.session.conversation,
            system_interval_s=None,
            turn_numbers=self.session.turn_numbers,
            thermal=shared.thermal,
            on_utterance_answered=self._utterance_answered,
        ).start()

    def _utterance_answered(self) -> None:
        """In the responder, once every reply before an ``end`` is made: ``done`` follows
        their events and audio (same FIFO onto the loop)."""
        call_in_loop(self.loop, self.outbox.put_control, protocol.DONE)

    def _stop_pipeline(self) -> asyncio.Task | None:
        """Ask the pipeline's threads to stop; the task returned joins them without blocking
        the loop, and goes on even if its awaiter is cancelled (the server drains them)."""
        pipeline, self.pipeline = self.pipeline, None
        if pipeline is None:
            return None
        self.sink.close()
        pipeline.stop()  # its queued transcriptions are dropped too
        return self.shared.teardowns.add(self.session.id, self._join(pipeline))

    async def _join(self, pipeline: Pipeline) -> None:
        deadline = self.loop.time() + STOP_TIMEOUT_S
        while pipeline.running and self.loop.time() < deadline:
            await asyncio.sleep(0.02)
        if not pipeline.close(timeout=0.1):
            log.warning("session %s: pipeline threads did not stop", self.session.id)

    async def _supervise(self) -> None:
        """Close the connection with 1011 after a stage failure (its error event first), and
        release the session of a connection that is closing (a peer that missed its pong)."""
        while True:
            await asyncio.sleep(SUPERVISE_S)
            if self.ws.state is not State.OPEN:  # the close frame is out: release the session
                self._reader.cancel()  # now, not once the TCP connection is closed
                return
            pipeline = self.pipeline
            if pipeline is not None and pipeline.done.is_set():  # set after the fatal error
                await settle(self.loop)
                await self.outbox.drained(2.0)
                self.close(Close.STAGE_FAILED, "stage failed")
                return

    # -- client -> server ------------------------------------------------------------------
    async def _read(self) -> None:
        async for message in self.ws:
            if isinstance(message, bytes):
                self._audio_in(message)
            else:
                await self._control(message)

    def _audio_in(self, data: bytes) -> None:
        if len(data) % 2:
            self._error("bad_audio", "a binary frame must hold whole 16-bit samples")
            return
        if not data:
            return
        if not self.inbox.put_pcm(data):
            self._in_dropped += 1
        elif self._in_dropped:
            count, self._in_dropped = self._in_dropped, 0
            message = f"{count} audio frames from the client dropped: the server fell behind"
            warning = WarningEvent(code="input_dropped", message=message, count=count)
            self.outbox.put_control(warning.to_json())

    async def _control(self, raw: str) -> None:
        try:
            message = protocol.parse_message(raw)
        except BadMessage as exc:
            self._error(exc.code, exc.message)
            return
        if message.type == "text":
            self.pipeline.submit_text(message.text)
        elif message.type == "interrupt":
            self._cut(CLIENT)
        elif message.type == "reset":
            await self._reset()
        elif message.type == "end":
            self.inbox.put_end()

    def _error(self, code: str, message: str) -> None:
        error = ErrorEvent(code=code, message=message, fatal=False)
        self.outbox.put_control(error.to_json())

    async def _reset(self) -> None:
        """Forget the conversation, the open turn, timers and pending `end`s: a new pipeline."""
        joining = self._stop_pipeline()
        if joining is not None:
            await asyncio.shield(joining)
        self.inbox.clear()
        self.outbox.purge_audio()
        self.session.conversation.history.clear()
        self._start_pipeline()
        self.outbox.put_control(protocol.RESET_DONE)

    def _cut(self, cause: str) -> None:
        """The client's ``interrupt`` (always answered with ``audio_stop``) or its speech over
        the reply: drop the reply's queued audio, interrupt the pipeline (which emits
        ``playback`` cut, also for a reply already made that the client is still playing)
        and tell the client to stop playing."""
        purged = self.outbox.purge_audio()
        playing = self.loop.time() < self._playing_until
        still_audible = purged or playing
        interrupted = False
        if self.pipeline is not None:
            request = Interrupt(cause, still_audible=still_audible)
            interrupted = self.pipeline.interrupt(request)
        if cause != CLIENT and not (interrupted or still_audible):
            return
        self._playing_until = 0.0
        self.outbox.put_control(protocol.AUDIO_STOP)

    # -- pipeline -> client (on the loop thread) -------------------------------------------
    def _on_event(self, event: Event) -> None:
        self.outbox.put_event(event.to_json())
        if isinstance(event, SpeechStart) and self._is_playing():
            self._cut(SPEECH)  # barge-in

    def _is_playing(self) -> bool:
        speaking = self.sink is not None and self.sink.speaking
        return speaking or self.outbox.has_audio() or self.loop.time() < self._playing_until

    def _on_audio(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            seq = next(self.session.audio_seq)
            self.outbox.put_audio(protocol.audio_header(self.rate, seq), chunk)

    def _audio_sent(self, nbytes: int) -> None:
        now = self.loop.time()
        self._playing_until = max(now, self._playing_until) + nbytes / 2 / self.rate
