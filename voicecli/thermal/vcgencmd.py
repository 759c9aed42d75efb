"""Raspberry Pi throttle state from ``vcgencmd get_throttled``, every bit decoded.

Why a command and not sysfs: the Pi firmware keeps under-voltage and throttling flags that the
kernel does not expose. The command is looked up on PATH once (configurable, so tests put a
fake script there); a failing or garbled answer is a ``Malformed`` problem, not a crash.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from voicecli.thermal.sources import Malformed

#: Bit -> name, as documented by Raspberry Pi (bits 16-19: "has occurred since boot").
BITS = {
    0: "under_voltage",
    1: "freq_capped",
    2: "throttled",
    3: "soft_temp_limit",
    16: "under_voltage_occurred",
    17: "freq_capped_occurred",
    18: "throttled_occurred",
    19: "soft_temp_limit_occurred",
}
NOW_MASK = 0xF
OCCURRED_MASK = 0xF0000
TIMEOUT_S = 0.5  # the real tool answers in ~10 ms; the monitor must stay stoppable
_ANSWER = re.compile(r"throttled\s*=\s*(0x[0-9a-f]+|\d+)\s*$", re.I)


def find(command: str) -> Path | None:
    """The executable for ``command`` (a name on PATH or a path), None when absent or ""."""
    if not command:
        return None
    found = shutil.which(command)
    return Path(found) if found else None


def decode(value: int) -> tuple[str, ...]:
    """Names of the set bits, lowest first: 0x50005 -> under_voltage, throttled, ... occurred."""
    return tuple(name for bit, name in BITS.items() if value >> bit & 1)


def get_throttled(executable: Path) -> int:
    """Run ``<executable> get_throttled`` and return the bit field."""
    try:
        done = subprocess.run(
            [str(executable), "get_throttled"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Malformed(executable, f"get_throttled failed: {exc}") from None
    match = _ANSWER.search(done.stdout.strip())
    if done.returncode != 0 or not match:
        answer = (done.stdout or done.stderr).strip()[:60]
        raise Malformed(executable, f"get_throttled exit {done.returncode}: {answer!r}")
    return int(match.group(1), 0)
