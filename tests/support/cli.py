"""Run the real ``voicecli`` program in a subprocess (optionally with PortAudio hidden)."""

import os
import subprocess
import sys

NO_PORTAUDIO = (
    "import ctypes.util, sys\n"
    "real = ctypes.util.find_library\n"
    "ctypes.util.find_library = lambda name: None if 'portaudio' in name else real(name)\n"
    "from voicecli.cli.main import run\n"
    "sys.argv = ['voicecli', *sys.argv[1:]]\n"
    "run()\n"
)


def voicecli(*args: str, env: dict | None = None, no_portaudio: bool = False, timeout=120):
    command = [sys.executable, "-c" if no_portaudio else "-m"]
    command.append(NO_PORTAUDIO if no_portaudio else "voicecli")
    return subprocess.run(
        [*command, *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
