"""The Wyoming server (Home Assistant): asr, tts and handle over the ``wyoming`` package.

Why its own event loop thread: ``voicecli serve`` answers Home Assistant's ``describe`` within
its one-second wait while the models still load, and runs next to the WebSocket server, sharing
its STT worker, models and brain (``provide``). Requests that need a model wait for ``provide``.
No thread is made per connection: the loop serves the sockets, the shared STT worker
transcribes, and two call workers run synthesis and replies (docs/wyoming.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlparse

from wyoming.server import AsyncTcpServer

from voicecli.core.config import Config
from voicecli.core.errors import UsageError
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.listen.stt_worker import SttWorker
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.brain import Brain
from voicecli.reply.context import Conversation
from voicecli.reply.llm import make_brain
from voicecli.reply.tts import TextToSpeech, all_voices
from voicecli.server.app import bind, is_loopback
from voicecli.server.calls import CallWorker, call_in_loop
from voicecli.server.wyoming_handler import WyomingHandler
from voicecli.server.wyoming_info import build_info
from voicecli.server.wyoming_zeroconf import Advertiser, check_available

log = logging.getLogger(__name__)

DEFAULT_PORT = 10300  # the port Home Assistant's Wyoming add-ons use


@dataclass
class WyomingOptions:
    uri: str = f"tcp://127.0.0.1:{DEFAULT_PORT}"
    allow_lan: bool = False
    max_connections: int = 16
    max_header_bytes: int = 64 * 1024  # the JSON line
    max_data_bytes: int = 64 * 1024  # data_length
    max_payload_bytes: int = 1024 * 1024  # payload_length (an audio chunk is ~2-8 KB)
    idle_timeout_s: float = 60.0  # no event for this long closes the connection
    max_audio_s: float = 60.0  # one transcription
    conversation_ttl_s: float = 300.0
    zeroconf: str | None = None  # advertise under this name (needs a LAN bind)

    def address(self) -> tuple[str, int]:
        """(host, port) of ``tcp://HOST:PORT``; a usage error for anything else."""
        try:
            parsed = urlparse(self.uri)
            host, port = parsed.hostname, parsed.port
        except ValueError:
            host = port = None
            parsed = None
        if parsed is None or parsed.scheme != "tcp" or not host or port is None:
            raise UsageError(
                f"--wyoming {self.uri}: expected tcp://HOST:PORT",
                hint=f"e.g. --wyoming tcp://127.0.0.1:{DEFAULT_PORT}",
            )
        return host, port

    def validate(self) -> WyomingOptions:
        host, _port = self.address()
        if not is_loopback(host) and not self.allow_lan:
            raise UsageError(
                f"refusing to serve Wyoming on {host}: Wyoming has no authentication, so "
                "anyone on the network could use it",
                hint="add --wyoming-allow-lan to expose it, or bind tcp://127.0.0.1:PORT",
            )
        if self.max_connections < 1:
            raise UsageError("--wyoming-max-connections must be at least 1")
        if self.zeroconf is not None:
            if is_loopback(host):
                raise UsageError(
                    "--zeroconf needs a LAN bind: Home Assistant could not reach 127.0.0.1",
                    hint="--wyoming tcp://0.0.0.0:PORT --wyoming-allow-lan --zeroconf",
                )
            check_available()
        return self

    def exposure(self) -> str:
        """What a LAN bind exposes, printed at start."""
        return (
            "speech-to-text, text-to-speech and the conversation (skills and any LLM) to every "
            "host that can reach this port, without authentication"
        )


@dataclass
class Backend:
    """What requests need beyond ``info``: set by ``provide`` once the models are loaded."""

    config: Config
    engines: Engines
    stt: SttWorker
    brain: Brain
    voices: dict[str, TextToSpeech] = field(default_factory=dict)  # asked for by name


class WyomingServer:
    def __init__(self, options: WyomingOptions, config: Config | None = None) -> None:
        self.options = options.validate()
        self.config = config or Config()
        self.info = build_info(self.config, all_voices()).event()
        self.host, self.port = options.address()
        self.backend: Backend | None = None
        self.tts_calls = CallWorker("wyoming-tts")
        self.reply_calls = CallWorker("wyoming-reply")
        self.handlers: set[WyomingHandler] = set()
        self._conversations: dict[str, tuple[Conversation, float]] = {}
        self._own: list = []  # an STT worker or brain made here, not shared
        self._sock = None
        self._thread: ManagedThread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None
        self._serving = threading.Event()
        self._ended = threading.Event()
        self.failure: str | None = None
        self.zeroconf_error: str | None = None  # why discovery is off (serving goes on)

    @property
    def url(self) -> str:
        host = self.host
        return f"tcp://{f'[{host}]' if ':' in host else host}:{self.port}"

    def wait(self, timeout: float | None = None) -> bool:
        """True once the server has ended (it only ends by itself when it failed)."""
        return self._ended.wait(timeout)

    # -- control (from any thread) ---------------------------------------------------------
    def start(self, timeout: float = 10.0) -> WyomingServer:
        if self._thread is not None:  # already serving
            return self
        self._sock = bind(self.host, self.port)
        self.port = self._sock.getsockname()[1]
        self.tts_calls.start()
        self.reply_calls.start()
        self._thread = ManagedThread("wyoming", self._run, on_error=self._failed)
        self._thread.start()
        if not self._serving.wait(timeout) and self.failure is None:
            self.failure = "the Wyoming server did not start"
        return self

    def provide(
        self, engines: Engines, stt: SttWorker | None = None, brain: Brain | None = None
    ) -> None:
        """The models are loaded: requests held so far go on. ``stt``/``brain`` shared with
        the WebSocket server; made (and later stopped) here when not given."""
        if stt is None:
            stt = SttWorker(engines.stt, on_error=self._failed).start()
            self._own.append(stt)
        if brain is None:
            brain = make_brain(self.config)
            self._own.append(brain)
        self.backend = Backend(self.config, engines, stt, brain)
        loop, ready = self._loop, self._ready
        if loop is not None and ready is not None:
            call_in_loop(loop, ready.set)

    def stop(self, timeout: float = 10.0) -> bool:
        """Close every connection and join every thread this server started."""
        ok = True
        if self._thread is not None:
            ok = self._thread.stop_and_join(timeout)
        ok = self.tts_calls.stop(timeout) and ok
        ok = self.reply_calls.stop(timeout) and ok
        for owned in self._own:
            if isinstance(owned, SttWorker):
                ok = owned.stop(timeout) and ok
            else:
                owned.close()
        self._own.clear()
        if self._sock is not None:
            self._sock.close()
        return ok

    def _failed(self, thread: ManagedThread, exc: BaseException) -> None:
        self.failure = self.failure or f"{thread.name} failed: {exc!r}"
        log.error("wyoming: %s", self.failure)
        self._ended.set()

    # -- for handlers (event loop thread) --------------------------------------------------
    async def ready(self) -> Backend:
        """The backend, once the models are loaded (requests wait here until then)."""
        await self._ready.wait()
        return self.backend

    def conversation(self, conversation_id: str | None) -> Conversation:
        """The conversation of this id (kept ``conversation_ttl_s`` after its last use)."""
        if not conversation_id:
            return Conversation()
        found = self._conversations.get(conversation_id)
        conversation = found[0] if found else Conversation()
        self._conversations[conversation_id] = (conversation, time.monotonic())
        return conversation

    def _expire(self) -> None:
        limit = time.monotonic() - self.options.conversation_ttl_s
        for key in [k for k, (_c, used) in self._conversations.items() if used < limit]:
            del self._conversations[key]

    # -- the event loop thread -------------------------------------------------------------
    def _run(self, thread: ManagedThread) -> None:
        asyncio.run(self._main(thread))  # a failure: _failed, which ends the server too

    async def _main(self, thread: ManagedThread) -> None:
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        if self.backend is not None:
            self._ready.set()
        server = _BoundTcpServer(self._sock, self.options.max_header_bytes)
        await server.start(partial(WyomingHandler, server=self))
        advertiser = await self._advertise()
        self._serving.set()
        try:
            while not thread.should_stop():
                await asyncio.sleep(POLL_S)
                self._expire()
        finally:
            if advertiser is not None:
                await advertiser.stop()
            await server.stop()  # closes every connection: handlers reading see its end
            deadline = time.monotonic() + 1.0
            while self.handlers and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            for handler in list(self.handlers):  # still waiting for a model or a reply
                handler.cancel()
            while self.handlers:
                await asyncio.sleep(0.01)
            self._ended.set()

    async def _advertise(self) -> Advertiser | None:
        if self.options.zeroconf is None:
            return None
        advertiser = Advertiser(self.options.zeroconf, self.host, self.port)
        try:
            await advertiser.start()
        except RuntimeError as exc:
            self.zeroconf_error = f"zeroconf discovery is off: {exc}"
            log.warning("wyoming: %s", self.zeroconf_error)
            return None
        return advertiser


class _BoundTcpServer(AsyncTcpServer):
    """The package's TCP server on a socket bound beforehand (a bad address fails at start,
    port 0 gets a free port), with the header line bounded by the stream reader's limit."""

    def __init__(self, sock, limit: int) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(host, port)
        self._sock = sock
        self._limit = limit

    async def start(self, handler_factory) -> None:
        callback = partial(self._handler_callback, handler_factory)
        self._server = await asyncio.start_server(callback, sock=self._sock, limit=self._limit)
        await self._server.start_serving()
