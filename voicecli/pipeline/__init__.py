"""The stages put together: the Pipeline (source -> listener -> responder -> sink), live audio for
the microphone and speakers, and the foreground runner."""
