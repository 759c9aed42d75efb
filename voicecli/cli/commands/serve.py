"""``voicecli serve``: the assistant over WebSocket (protocol: docs/protocol.md)."""

from __future__ import annotations

import typer

from voicecli.cli.app import app, fail, handle_errors
from voicecli.cli.commands import options
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
    model: str | None = options.MODEL,
    brain: str | None = options.BRAIN,
    llm: str | None = options.LLM,
    llm_url: str | None = options.LLM_URL,
    llm_model: str | None = options.LLM_MODEL,
    voice: str | None = options.VOICE,
    rate: int | None = options.RATE,
) -> None:
    """Serve the assistant over WebSocket to other programs (browsers, phones, hubs)."""
    from voicecli.cli.commands.voices import check_tts_settings
    from voicecli.core.config import load_config
    from voicecli.pipeline.pipeline import Engines
    from voicecli.reply.llm import make_brain
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
    flags = options.assistant_flags(
        model=model,
        brain=brain,
        llm=llm,
        llm_url=llm_url,
        llm_model=llm_model,
        voice=voice,
        rate=rate,
    )
    config = load_config(flags).config
    check_tts_settings(config.tts)
    monitor = _thermal_monitor(config)  # bad thresholds fail here, before anything starts
    sock = bind(host, port)
    try:
        reply_brain = make_brain(config)  # one for all sessions, before Engines (LLM threads)
    except BaseException:
        sock.close()
        raise
    try:
        server = VoiceServer(
            server_options, Engines.load(config), config, reply_brain, sock=sock, thermal=monitor
        )
    except BaseException:
        sock.close()
        reply_brain.close()
        raise

    def announce(url: str) -> None:
        auth = "token required" if server_options.token else "no token"
        typer.echo(f"voicecli: serving on {url} ({auth}, at most {max_sessions} sessions)")

    monitor.start()  # every session's pipeline applies its protection (given to the server)
    try:
        status = serve_until_signal(server, announce)
    finally:
        monitor.stop()
        reply_brain.close()
    if status is ExitStatus.RUNTIME_FAILURE:
        raise fail(f"server stopped: {server.failure}", status)
    raise typer.Exit(int(status))


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
