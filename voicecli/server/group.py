"""``voicecli serve`` with more than one protocol: the WebSocket server and the Wyoming server
run, fail and stop together, and share one STT worker (``serve_until_signal`` drives them)."""

from __future__ import annotations

from voicecli.listen.stt_worker import SttWorker


class ServerGroup:
    """The servers of one process as one server: started, waited on and stopped together."""

    def __init__(self, servers: list, stt: SttWorker | None = None) -> None:
        self.servers = servers
        self.stt = stt  # shared by them all: stopped after them

    @property
    def url(self) -> str:
        return " and ".join(server.url for server in self.servers)

    @property
    def failure(self) -> str | None:
        failures = [s.failure for s in self.servers if s.failure] + [self._stt_failure()]
        return next((f for f in failures if f), None)

    def _stt_failure(self) -> str | None:
        if self.stt is None or self.stt.thread.error is None:
            return None
        return f"stt failed: {self.stt.thread.error!r}"

    def start(self) -> ServerGroup:
        for server in self.servers:
            server.start()  # Wyoming's second start (it starts before the models load): no-op
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """True once any server has ended (a failure: see ``failure``)."""
        if any(s.wait(0) for s in self.servers) or self._stt_failure() is not None:
            return True
        return self.servers[0].wait(timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        ok = True
        for server in self.servers:
            ok = server.stop(timeout) and ok
        if self.stt is not None:
            ok = self.stt.stop(timeout) and ok
        return ok
