"""Shared ground every part stands on: the typed events and the bus, the clock, ManagedThread,
settings, errors and exit codes, the model catalogue and the audio format constants. Imports
nothing else from voicecli."""
