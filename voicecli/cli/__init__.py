"""The ``voicecli`` command line: the Typer app (``app``), the program with every command on it
(``main``), one module per command (``commands/``), the shared options and the assistant they
load (``options``, ``assistant``), the dashboard, printers and keys."""
