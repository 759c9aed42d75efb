"""Made-up sysfs trees and a fake ``vcgencmd`` for the thermal tests (and bench --thermal's).

Files are replaced atomically (write + rename), as the kernel presents them: a reader never
sees a half-written temperature.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from voicecli.core.config import ThermalConfig


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


class FakeSysfs:
    """A sysfs tree under ``root``: ``zone``, ``hwmon`` and ``cpu`` add sources."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def config(self, **overrides) -> ThermalConfig:
        """Settings reading this tree, with no vcgencmd unless given."""
        return ThermalConfig(**{"sysfs_root": str(self.root), "vcgencmd": "", **overrides})

    def zone(self, n: int, kind: str, celsius: float | None) -> Path:
        folder = self.root / f"class/thermal/thermal_zone{n}"
        write(folder / "type", f"{kind}\n")
        return self.set(folder / "temp", celsius)

    def hwmon(self, n: int, name: str, temps: dict[str | None, float]) -> list[Path]:
        """``temps`` maps a label (None: no label file) to degrees; returns the input files."""
        folder = self.root / f"class/hwmon/hwmon{n}"
        write(folder / "name", f"{name}\n")
        paths = []
        for i, (label, celsius) in enumerate(temps.items(), 1):
            if label is not None:
                write(folder / f"temp{i}_label", f"{label}\n")
            paths.append(self.set(folder / f"temp{i}_input", celsius))
        return paths

    def cpu(
        self,
        n: int,
        cur_mhz: float,
        max_mhz: float,
        limit_mhz: float | None = None,
        counters: dict[str, int] | None = None,
    ) -> Path:
        folder = self.root / f"devices/system/cpu/cpu{n}"
        write(folder / "cpufreq/scaling_cur_freq", f"{int(cur_mhz * 1000)}\n")
        write(folder / "cpufreq/cpuinfo_max_freq", f"{int(max_mhz * 1000)}\n")
        if limit_mhz is not None:
            write(folder / "cpufreq/scaling_max_freq", f"{int(limit_mhz * 1000)}\n")
        for name, value in (counters or {}).items():
            write(folder / f"thermal_throttle/{name}", f"{value}\n")
        return folder

    @staticmethod
    def set(path: Path, celsius: float | None) -> Path:
        """Write a temperature in millidegrees (None: leave the file empty)."""
        return write(path, "" if celsius is None else f"{round(celsius * 1000)}\n")


def fake_vcgencmd(folder: Path, value: str = "0x0") -> Path:
    """An executable ``vcgencmd`` in ``folder`` that answers ``get_throttled`` with the
    contents of ``folder/value`` (change it with ``write``)."""
    write(folder / "value", value)
    script = write(
        folder / "vcgencmd",
        "#!/bin/sh\n"
        '[ "$1" = get_throttled ] || { echo "unknown command" >&2; exit 1; }\n'
        f"printf 'throttled=%s\\n' \"$(cat '{folder / 'value'}')\"\n",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def realistic_machine(root: Path, celsius: float = 55.0, cpus: int = 8) -> FakeSysfs:
    """A laptop-sized tree: 3 zones, coretemp with a package and per-core sensors, an NVMe
    drive, cpufreq and Intel throttle counters on every CPU."""
    tree = FakeSysfs(root)
    tree.zone(0, "acpitz", celsius - 5)
    tree.zone(1, "x86_pkg_temp", celsius)
    tree.zone(2, "iwlwifi_1", 40.0)
    cores = {f"Core {i}": celsius - 1 - i % 3 for i in range(cpus // 2)}
    tree.hwmon(0, "coretemp", {"Package id 0": celsius, **cores})
    tree.hwmon(1, "nvme", {"Composite": 38.0})
    for n in range(cpus):
        counters = {"core_throttle_count": 0, "package_throttle_count": 0}
        tree.cpu(n, 1800.0, 4200.0, 4200.0, counters)
    return tree
