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
) -> None:
    """Serve the assistant over WebSocket to other programs (browsers, phones, hubs)."""
    from voicecli.cli.assistant import assistant_config, load_assistant
    from voicecli.server.app import ServerOptions, VoiceServer, bind, serve_until_signal

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
    sock = bind(host, port)
    with load_assistant(config, opened=sock) as assistant:  # one brain for all sessions
        server = VoiceServer(server_options, assistant.engines, config, assistant.brain, sock=sock)

        def announce(url: str) -> None:
            auth = "token required" if server_options.token else "no token"
            typer.echo(f"voicecli: serving on {url} ({auth}, at most {max_sessions} sessions)")

        monitor.start()  # every session's pipeline applies its protection (active_monitor)
        try:
            status = serve_until_signal(server, announce)
        finally:
            monitor.stop()
    if status is ExitStatus.RUNTIME_FAILURE:
        raise fail(f"server stopped: {server.failure}", status)
    raise typer.Exit(int(status))


def _thermal_monitor(config):
    """The process's thermal monitor; its ``thermal`` events and warnings go to the log."""
    from voicecli.thermal.monitor import ThermalEvent, ThermalMonitor, describe

    def log(event) -> None:
        if isinstance(event, ThermalEvent):
            typer.echo(f"voicecli: {describe(event)}", err=True)
        elif event.type in ("warning", "error"):
            typer.echo(f"voicecli: {event.type}: {event.message}", err=True)

    return ThermalMonitor(config.thermal, emit=log)
