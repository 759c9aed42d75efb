"""The server: one event loop (in a ManagedThread) serving every WebSocket connection.

Why one loop and no thread per connection: sockets are I/O, so one asyncio loop serves them
all; a connection's only threads are its session's pipeline stages, started on attach and
joined on detach. The models, the STT worker and the brain are shared; a failure of one of
them (or of the loop) ends the server with ``failure`` set, while a failure inside one session
closes only that connection (1011).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from voicecli.core.config import Config
from voicecli.core.errors import ExitStatus, UsageError
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.listen.stt_worker import SttWorker
from voicecli.pipeline.pipeline import Engines
from voicecli.pipeline.runner import signals_caught
from voicecli.reply.brain import Brain
from voicecli.reply.llm import make_brain
from voicecli.server import protocol
from voicecli.server.connection import Connection, Shared
from voicecli.server.outbox import MAX_AUDIO_BYTES
from voicecli.server.protocol import MAX_MESSAGE_BYTES, Close, HelloRejected
from voicecli.server.session import SessionStore
from voicecli.server.teardown import Teardowns
from voicecli.thermal.monitor import ThermalMonitor

log = logging.getLogger(__name__)

KEPT_PER_LIVE = 16  # detached sessions kept at most, per allowed live connection
LOOPBACK_NAMES = ("localhost", "ip6-localhost")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_sessions: int = 8  # live connections
    session_ttl_s: float = 300.0
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 5.0
    hello_timeout_s: float = 10.0
    outbox_audio_bytes: int = MAX_AUDIO_BYTES

    def validate(self) -> ServerOptions:
        if not self.token and not is_loopback(self.host):
            raise UsageError(
                f"refusing to serve on {self.host} without a token: anyone on the network "
                "could use the assistant",
                hint="set --token or VOICECLI_TOKEN, or bind 127.0.0.1",
            )
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port {self.port}: must be 0-65535")
        if self.max_sessions < 1:
            raise UsageError("--max-sessions must be at least 1")
        for name, value in (
            ("--session-ttl", self.session_ttl_s),
            ("--ping-interval", self.ping_interval_s),
            ("--ping-timeout", self.ping_timeout_s),
        ):
            if not value > 0:
                raise UsageError(f"{name} must be a positive number of seconds")
        return self


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, made here so that a bad address fails at start (exit 2) and no
    resolver thread is started by the event loop."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve --host {host}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


class VoiceServer:
    def __init__(
        self,
        options: ServerOptions,
        engines: Engines,
        config: Config | None = None,
        brain: Brain | None = None,
        sock: socket.socket | None = None,  # already bound (serve binds before loading models)
        stt: SttWorker | None = None,  # shared with another server (Wyoming): not stopped here
        thermal: ThermalMonitor | None = None,  # running: every session's pipeline follows it
    ) -> None:
        self.options = options.validate()
        self.config = config or Config()
        self.engines = engines
        self._own_brain = brain is None
        self.brain = brain or make_brain(self.config)
        self.store = SessionStore(
            options.session_ttl_s, max_kept=options.max_sessions * KEPT_PER_LIVE
        )
        self.failure: str | None = None  # set when a shared part failed: exit 6
        self.port: int | None = None
        self._sock = sock
        self.thermal = thermal
        self._stopped = False
        self._stt: SttWorker | None = stt
        self._own_stt = stt is None
        self._thread: ManagedThread | None = None
        self._serving = threading.Event()
        self._ended = threading.Event()
        self._connections: set[Connection] = set()
        # pipelines of closed connections still stopping: as many as there are slots at most
        self._teardowns = Teardowns(cap=options.max_sessions)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dropped_audio = 0  # reply audio chunks dropped for slow readers, ended connections

    @property
    def url(self) -> str:
        host = self.options.host
        return f"ws://{f'[{host}]' if ':' in host else host}:{self.port}"

    # -- control (from any thread) ---------------------------------------------------------
    def start(self, timeout: float = 10.0) -> VoiceServer:
        if self._sock is None:
            self._sock = bind(self.options.host, self.options.port)
        self.port = self._sock.getsockname()[1]
        if self._own_stt:
            self._stt = SttWorker(self.engines.stt, on_error=self._shared_failed).start()
        self._thread = ManagedThread("server", self._run, on_error=self._shared_failed)
        self._thread.start()
        if not self._serving.wait(timeout) and self.failure is None:
            self._shared_failed(self._thread, TimeoutError("the server did not start"))
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """True once the server has ended (stopped, or failed: see ``failure``)."""
        return self._ended.wait(timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """Close every session (1001) and wait for every thread; True when all ended."""
        if self._stopped:
            return True
        self._stopped = True
        ok = True
        if self._thread is not None:
            ok = self._thread.stop_and_join(timeout)
        if self._stt is not None and self._own_stt:
            ok = self._stt.stop(timeout) and ok
        if self._sock is not None:
            self._sock.close()
        if self._own_brain:
            self.brain.close()
        return ok

    def stats(self, timeout: float = 5.0) -> dict[str, int]:
        """Live connections, sessions kept, pipelines of closed connections still stopping,
        reply audio chunks dropped (from any thread)."""

        async def collect() -> dict[str, int]:
            dropped = sum(c.outbox.dropped_audio for c in self._connections)
            return {
                "live": self.store.live_count(),
                "kept": len(self.store),
                "tearing_down": len(self._teardowns),
                "dropped_audio": self._dropped_audio + dropped,
            }

        return asyncio.run_coroutine_threadsafe(collect(), self._loop).result(timeout)

    def _shared_failed(self, thread: ManagedThread, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = f"{thread.name} failed: {exc!r}"
            log.error("server: %s", self.failure)
        self._ended.set()

    # -- the event loop thread -------------------------------------------------------------
    def _run(self, thread: ManagedThread) -> None:
        try:
            asyncio.run(self._main(thread))
        finally:
            self._ended.set()

    async def _main(self, thread: ManagedThread) -> None:
        options = self.options
        self._loop = asyncio.get_running_loop()
        server = await serve(
            self._handle,
            sock=self._sock,
            ping_interval=options.ping_interval_s,
            ping_timeout=options.ping_timeout_s,
            close_timeout=min(options.ping_timeout_s, 5.0),
            max_size=MAX_MESSAGE_BYTES,
            compression=None,  # PCM does not compress; deflate would only cost CPU
        )
        reaper = asyncio.create_task(self._reap())
        self._serving.set()
        try:
            while not thread.should_stop() and self.failure is None:
                await asyncio.sleep(POLL_S)
        finally:
            reaper.cancel()
            if self.failure is not None:  # sessions learn it was a failure, not a shutdown
                for connection in list(self._connections):
                    connection.close(Close.STAGE_FAILED, "server failure")
            server.close()  # every other connection: 1001 going away
            await server.wait_closed()
            await self._teardowns.drain()

    async def _reap(self) -> None:
        """Forget sessions detached for longer than the TTL."""
        period = min(1.0, self.options.session_ttl_s / 4)
        while True:
            await asyncio.sleep(period)
            for session in self.store.expire():
                log.info("session %s expired", session.id)

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            raw = await asyncio.wait_for(ws.recv(), self.options.hello_timeout_s)
            hello = protocol.parse_hello(raw)
        except TimeoutError:
            await ws.close(Close.BAD_HELLO, "no hello")
            return
        except HelloRejected as rejected:
            await ws.close(rejected.close, rejected.reason)
            return
        except ConnectionClosed:
            return
        if not self._token_ok(hello.token):
            await ws.close(Close.UNAUTHORIZED, "missing or wrong token")
            return
        session = self.store.find(hello.session_id, hello.token)
        if (session is None or session.connection is None) and (
            self.store.live_count() >= self.options.max_sessions
        ):
            await ws.close(Close.SERVER_FULL, "server full: try again later")
            return
        resumed = session is not None
        while session is not None and session.connection is not None:
            await session.connection.take_over()  # the old connection goes with 4409
        if session is None:
            session = self.store.create(hello.token)
        connection = Connection(ws, session, hello.rate, self._shared())
        self.store.attach(session, connection)
        self._connections.add(connection)
        state = "resumed" if resumed else "opened"
        log.info("session %s %s (%d live)", session.id, state, self.store.live_count())
        try:
            await connection.run(resumed)
        finally:
            self._connections.discard(connection)
            self._dropped_audio += connection.outbox.dropped_audio
            self.store.detach(session, connection)
            connection.finished.set()
            live, stopping = self.store.live_count(), len(self._teardowns)
            log.info("session %s detached (%d live, %d tearing down)", session.id, live, stopping)

    def _token_ok(self, token: str | None) -> bool:
        expected = self.options.token
        if not expected:
            return True
        return token is not None and hmac.compare_digest(token.encode(), expected.encode())

    def _shared(self) -> Shared:
        return Shared(
            config=self.config,
            engines=self.engines,
            stt=self._stt,
            brain=self.brain,
            teardowns=self._teardowns,
            outbox_audio_bytes=self.options.outbox_audio_bytes,
            thermal=self.thermal,
        )


def serve_until_signal(server: VoiceServer, announce: Callable[[str], None]) -> ExitStatus:
    """``voicecli serve``: run until SIGINT/SIGTERM (sessions closed with 1001) or a shared
    failure (exit 6); every thread is joined before this returns."""
    with signals_caught() as caught:
        server.start()
        try:
            announce(server.url)
            while not caught.is_set() and not server.wait(POLL_S):
                pass
        finally:
            server.stop()
    if server.failure is not None:
        return ExitStatus.RUNTIME_FAILURE
    if caught.is_set():
        return ExitStatus.SIGTERM if caught.signum == signal.SIGTERM else ExitStatus.SIGINT
    return ExitStatus.OK
