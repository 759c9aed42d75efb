"""voicecli: a terminal-first, fully local voice assistant."""

__version__ = "0.1.0"
