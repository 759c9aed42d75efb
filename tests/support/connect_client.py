"""``python -m voicecli connect URL --input mic --json`` in a subprocess, for the live tests of
``connect`` on the virtual PulseAudio devices: its JSON lines are collected as they come."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time

from support.cli import command


class Client:
    def __init__(self, url: str, env: dict, *args: str) -> None:
        self.messages: list[dict] = []
        self.proc = subprocess.Popen(
            command("connect", url, "--input", "mic", "--json", *args),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("{"):
                message = json.loads(line)
                message["_at"] = time.monotonic()  # when it was read here
                self.messages.append(message)

    def wait_for(self, kind: str, timeout: float, **match) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for message in list(self.messages):
                if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                    return message
            time.sleep(0.05)
        return None

    def of(self, kind: str, **match) -> list[dict]:
        return [
            m
            for m in self.messages
            if m["type"] == kind and all(m.get(k) == v for k, v in match.items())
        ]

    def interrupt(self) -> tuple[int, float]:
        """Ctrl-C: the exit code and the seconds from the signal to the process's end."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(10)
        return code, time.monotonic() - sent

    def close(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._reader.join(5)
        return self.proc.stderr.read()
