"""Server fixtures: a real voicecli server on 127.0.0.1 (started per test) and a spoken question."""

from __future__ import annotations

import contextlib

import pytest
from support.server import QUESTION, pcm_bytes

from voicecli.reply.synth import compose
from voicecli.server.app import ServerOptions, VoiceServer


@pytest.fixture(name="start_server")
def start_server_fixture(engines):
    """start_server(**ServerOptions fields, brain=...) -> a running VoiceServer on a free port;
    every server started is stopped (and its threads joined) after the test."""
    servers: list[VoiceServer] = []

    def start(brain=None, **options) -> VoiceServer:
        server = VoiceServer(ServerOptions(port=0, **options), engines, brain=brain).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.stop(), "server threads did not stop"


@pytest.fixture(name="server")
def server_fixture(start_server) -> VoiceServer:
    return start_server()


@pytest.fixture(scope="session", name="question_pcm")
def question_pcm_fixture() -> bytes:
    """'What is twelve times eight?' with silence around it, as s16le at 16 kHz."""
    return pcm_bytes(compose(0.5, QUESTION, 1.5))


@pytest.fixture(name="start_wyoming")
def start_wyoming_fixture(engines):
    """start_wyoming(provide=True, **WyomingOptions fields) -> a Wyoming server on a free port,
    given the loaded models unless ``provide`` is False; stopped (threads joined) after the test."""
    from voicecli.server.wyoming import WyomingOptions, WyomingServer

    def stopped(server: WyomingServer) -> None:
        assert server.stop(), "Wyoming server threads did not stop"

    with contextlib.ExitStack() as stack:

        def start(provide: bool = True, **options) -> WyomingServer:
            options = {"uri": "tcp://127.0.0.1:0", **options}
            server = WyomingServer(WyomingOptions(**options)).start()
            stack.callback(stopped, server)
            if provide:
                server.provide(engines)
            return server

        yield start
