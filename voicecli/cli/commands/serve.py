"""``voicecli serve``: the assistant over WebSocket (protocol: docs/protocol.md)."""

from __future__ import annotations

import typer

from voicecli.cli import options
from voicecli.cli.app import app, fail, handle_errors
from voicecli.core.errors import ExitStatus


@app.command()
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0: any free port)."),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="VOICECLI_TOKEN",
        help="Clients must send this token (required beyond loopback). Env: VOICECLI_TOKEN.",
    ),
    max_sessions: int = typer.Option(8, "--max-sessions", help="Live connections at most."),
    session_ttl: float = typer.Option(
        300.0, "--session-ttl", help="Seconds a disconnected session stays resumable."
    ),
    ping_interval: float = typer.Option(20.0, "--ping-interval", help="Seconds between pings."),
    ping_timeout: float = typer.Option(
        5.0, "--ping-timeout", help="A client that misses its pong this long is dropped."
    ),
    model: options.Model = None,
    brain: options.Brain = None,
    llm: options.Llm = None,
    llm_url: options.LlmUrl = None,
    llm_model: options.LlmModel = None,
    voice: options.Voice = None,
    rate: options.Rate = None,
    wyoming: str | None = typer.Option(
        None,
        "--wyoming",
        metavar="tcp://HOST:PORT",
        help="Also serve Home Assistant over Wyoming (docs/wyoming.md), e.g. tcp://127.0.0.1:10300.",
    ),
    wyoming_allow_lan: bool = typer.Option(
        False, "--wyoming-allow-lan", help="Allow --wyoming beyond loopback (no authentication)."
    ),
    no_websocket: bool = typer.Option(False, "--no-websocket", help="Serve Wyoming only."),
    zeroconf: bool = typer.Option(
        False, "--zeroconf", help="Advertise Wyoming for discovery (extra: voicecli[zeroconf])."
    ),
) -> None:
    """Serve the assistant over WebSocket to other programs (browsers, phones, hubs)."""
    from voicecli.cli.assistant import assistant_config, load_assistant
    from voicecli.listen.stt_worker import SttWorker
    from voicecli.server.app import ServerOptions, VoiceServer, bind, serve_until_signal
    from voicecli.server.group import ServerGroup

    server_options = ServerOptions(
        host=host,
        port=port,
        token=token or None,
        max_sessions=max_sessions,
        session_ttl_s=session_ttl,
        ping_interval_s=ping_interval,
        ping_timeout_s=ping_timeout,
    ).validate()  # before the models load: a refused option or a busy port fails at once
    settings = options.AssistantOptions(model, brain, llm, llm_url, llm_model, voice, rate)
    config = assistant_config(settings)
    monitor = _thermal_monitor(config)  # bad thresholds fail here, before anything starts
    for flag, given in (("--no-websocket", no_websocket), ("--zeroconf", zeroconf)):
        if given and not wyoming:
            raise fail(f"{flag} needs --wyoming tcp://HOST:PORT", ExitStatus.USAGE)
    sock = None if no_websocket else bind(host, port)
    opened = _Opened(sock)
    if wyoming:  # answers Home Assistant's describe while the models load
        opened.wyoming = _start_wyoming(wyoming, wyoming_allow_lan, zeroconf, config, opened)
    with load_assistant(config, opened=opened) as assistant:  # one brain for all sessions
        engines, stt = assistant.engines, SttWorker(assistant.engines.stt).start()
        servers = [] if sock is None else [VoiceServer(
            server_options, engines, config, assistant.brain, sock=sock, stt=stt, thermal=monitor
        )]  # fmt: skip
        if opened.wyoming is not None:
            opened.wyoming.provide(engines, stt, assistant.brain)
            servers.append(opened.wyoming)
        server = ServerGroup(servers, stt)

        def announce(url: str) -> None:
            auth = "token required" if server_options.token else "no token"
            limits = "Wyoming only" if sock is None else f"{auth}, at most {max_sessions} sessions"
            typer.echo(f"voicecli: serving on {url} ({limits})")

        monitor.start()  # every session's pipeline applies its protection (given to the server)
        try:
            status = serve_until_signal(server, announce)
        finally:
            monitor.stop()
    if status is ExitStatus.RUNTIME_FAILURE:
        raise fail(f"server stopped: {server.failure}", status)
    raise typer.Exit(int(status))


class _Opened:
    """What serve opens before the models load (socket, Wyoming server): closed if loading
    fails; once serving, the servers own them."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.wyoming = None

    def close(self) -> None:
        if self.wyoming is not None:
            self.wyoming.stop()
        if self.sock is not None:
            self.sock.close()


def _start_wyoming(uri: str, allow_lan: bool, zeroconf: bool, config, opened: _Opened):
    """The Wyoming server, serving ``info`` now; its requests wait for ``provide``."""
    from voicecli.server.wyoming import WyomingOptions, WyomingServer
    from voicecli.server.wyoming_zeroconf import SERVICE

    name = "voicecli" if zeroconf else None
    try:
        options = WyomingOptions(uri=uri, allow_lan=allow_lan, zeroconf=name).validate()
        server = WyomingServer(options, config).start()
    except BaseException:
        opened.close()
        raise
    if allow_lan:
        typer.echo(f"voicecli: Wyoming on {server.url} exposes {options.exposure()}", err=True)
    if zeroconf:
        found = (
            f"warning: {server.zeroconf_error}" if server.zeroconf_error else f"as {name}.{SERVICE}"
        )
        typer.echo(f"voicecli: zeroconf {found}", err=True)
    typer.echo(f"voicecli: Wyoming (Home Assistant) on {server.url}; loading models")
    return server


def _thermal_monitor(config):
    """The process's thermal monitor; its ``thermal`` events and warnings go to the log."""
    from voicecli.core.events import ThermalEvent
    from voicecli.thermal.monitor import ThermalMonitor, describe

    def log(event) -> None:
        if isinstance(event, ThermalEvent):
            typer.echo(f"voicecli: {describe(event)}", err=True)
        elif event.type in ("warning", "error"):
            typer.echo(f"voicecli: {event.type}: {event.message}", err=True)

    return ThermalMonitor(config.thermal, emit=log)
