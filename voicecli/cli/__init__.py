"""The ``voicecli`` command line: the Typer app, one module per command, shared options, the
dashboard, printers and keys."""
