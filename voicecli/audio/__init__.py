"""Sound in and out: files, sources (file, stdin, microphone), sinks (file, none, speakers),
PortAudio devices, voice activity detection and echo handling."""
