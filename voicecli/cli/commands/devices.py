"""``voicecli devices``: the microphones and speakers PortAudio sees, defaults marked."""

from __future__ import annotations

import typer

from voicecli.cli.app import app, handle_errors


@app.command()
@handle_errors
def devices() -> None:
    """List audio devices (use the index or a part of the name with --input-device)."""
    from voicecli.audio.devices import list_devices

    found = list_devices()
    if not found:
        typer.echo("no audio devices found (use --input FILE and --output FILE)")
        return
    typer.echo(f"{'':2}{'index':>5}  {'in':>3} {'out':>3}  {'rate':>6}  name (host API)")
    for device in found:
        mark = ("<" if device.default_input else " ") + (">" if device.default_output else " ")
        typer.echo(
            f"{mark}{device.index:>5}  {device.inputs:>3} {device.outputs:>3}  "
            f"{device.rate:>6}  {device.name} ({device.host_api})"
        )
    typer.echo("< default microphone, > default speaker")
