"""One module per command; each registers itself on ``voicecli.cli.app`` (``voicecli.cli.main``
imports them all)."""
