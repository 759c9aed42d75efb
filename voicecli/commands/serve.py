"""``voicecli serve``: the assistant over WebSocket (protocol: docs/protocol.md)."""

from __future__ import annotations

import typer

from voicecli.cli import app, fail, handle_errors
from voicecli.errors import ExitStatus, UsageError


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
    model: str | None = typer.Option(None, "--model", help="STT model: catalogue id or directory."),
    brain: str | None = typer.Option(None, "--brain", help="skills (default) or echo."),
) -> None:
    """Serve the assistant over WebSocket to other programs (browsers, phones, hubs)."""
    from voicecli.brain import BRAINS
    from voicecli.config import load_config
    from voicecli.pipeline import Engines
    from voicecli.server.app import ServerOptions, VoiceServer, bind, serve_until_signal

    options = ServerOptions(
        host=host,
        port=port,
        token=token or None,
        max_sessions=max_sessions,
        session_ttl_s=session_ttl,
        ping_interval_s=ping_interval,
        ping_timeout_s=ping_timeout,
    ).validate()  # before the models load: a refused option or a busy port fails at once
    config = load_config({"stt.model": model, "brain.name": brain}).config
    if config.brain.name not in BRAINS:
        raise UsageError(f"unknown brain {config.brain.name!r}: use {' or '.join(BRAINS)}")
    sock = bind(host, port)
    try:
        server = VoiceServer(options, Engines.load(config), config, sock=sock)
    except BaseException:
        sock.close()
        raise

    def announce(url: str) -> None:
        auth = "token required" if options.token else "no token"
        typer.echo(f"voicecli: serving on {url} ({auth}, at most {max_sessions} sessions)")

    status = serve_until_signal(server, announce)
    if status is ExitStatus.RUNTIME_FAILURE:
        raise fail(f"server stopped: {server.failure}", status)
    raise typer.Exit(int(status))
