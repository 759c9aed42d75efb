"""CPU-burning helper processes for ``voicecli bench --thermal --load N``: heat on demand.

Why processes and not threads: a Python thread spinning holds the GIL and would slow the
pipeline itself, not just heat the machine; a separate process competes for cores the way
another program would. Each helper is a tiny ``python -c`` loop that asks the kernel to kill
it when voicecli dies (``PR_SET_PDEATHSIG``), so even a killed bench leaves none behind; a
normal end terminates them, then kills whatever did not stop.
"""

from __future__ import annotations

import subprocess
import sys

import psutil

MAX_HELPERS = 64
STOP_S = 2.0  # a helper gets this long to end after SIGTERM before SIGKILL

# Runs in the helper: die with the parent (Linux), leave at once if it is already gone, spin.
BURN = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
while True:
    pass
"""


class LoadHelpers:
    """``count`` helper processes, each keeping one core busy while inside ``with``."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.processes: list[subprocess.Popen] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def start(self) -> LoadHelpers:
        parent = str(psutil.Process().pid)
        try:
            for _ in range(self.count):
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", BURN, parent],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate every helper, kill the ones that linger, and reap them all."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def alive(self) -> int:
        """How many helpers still run (0 after ``stop``)."""
        return sum(psutil.pid_exists(pid) and _running(pid) for pid in self.pids)

    def __enter__(self) -> LoadHelpers:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
