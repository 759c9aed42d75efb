"""Run the real ``voicecli`` program in a subprocess, the one way every test does it.

``env`` is laid over this process's environment (a ``None`` value removes a variable);
``no_portaudio`` makes PortAudio unfindable, so sounddevice's own import raises the OSError a
machine without libportaudio2 gives; ``shadow_modules`` makes other imports fail as they do
where a wheel is missing.
"""

import os
import subprocess
import sys
from pathlib import Path

NO_PORTAUDIO = (
    "import ctypes.util, sys\n"
    "real = ctypes.util.find_library\n"
    "ctypes.util.find_library = lambda name: None if 'portaudio' in name else real(name)\n"
    "from voicecli.cli.main import run\n"
    "sys.argv = ['voicecli', *sys.argv[1:]]\n"
    "run()\n"
)


NO_TOKEN = {"VOICECLI_TOKEN": None}  # a server started here must not pick up a token


def environment(env: dict | None = None) -> dict:
    """This process's environment with ``env`` laid over it (``None`` removes a variable)."""
    merged = {**os.environ, **(env or {})}
    return {key: value for key, value in merged.items() if value is not None}


def command(*args: str, no_portaudio: bool = False) -> list[str]:
    """The argv that runs voicecli with ``args`` (for Popen, when a test reads as it runs)."""
    if no_portaudio:
        return [sys.executable, "-c", NO_PORTAUDIO, *args]
    return [sys.executable, "-m", "voicecli", *args]


def voicecli(
    *args: str,
    env: dict | None = None,
    stdin=None,
    no_portaudio: bool = False,
    timeout: float = 180,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(*args, no_portaudio=no_portaudio),
        env=environment(env),
        stdin=stdin if stdin is not None else subprocess.DEVNULL,  # a file, or nothing
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shadow_modules(folder: Path, **failures: str) -> dict:
    """Environment entries making ``import NAME`` raise ``failures[NAME]`` (a raise statement)."""
    for name, statement in failures.items():
        (folder / f"{name}.py").write_text(statement + "\n")
    return {"PYTHONPATH": f"{folder}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
