"""Helpers the test folders import: pipeline runner, event schema, PulseAudio harness."""
