"""One module per command; each registers itself on ``voicecli.cli.app``."""
