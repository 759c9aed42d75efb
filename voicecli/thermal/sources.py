"""Thermal readers over a sysfs tree: thermal zones, hwmon, cpufreq and Intel throttle counters.

Why a discovered ``Layout``: the files that exist do not change while the program runs, so the
monitor finds them once (and again every few seconds for hot-plugged ones) and each poll only
reads a handful of small files. The root is configurable so tests read a tree they built.
A file that exists but cannot be parsed is reported as a ``Problem`` and skipped, never raised.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REAL_SYSFS = Path("/sys")

# Readings that say something about the processor drive the thermal state; readings of other
# devices (a drive, a Wi-Fi card, a GPU) never do; anything unrecognised (e.g. ``acpitz``) is
# used only when there is no processor reading at all.
_CPU = re.compile(
    r"cpu|x86_pkg|coretemp|k8temp|k10temp|zenpower|soc|tctl|tdie|package|core|bcm2835", re.I
)
_DEVICE = re.compile(
    r"nvme|drivetemp|ssd|disk|iwlwifi|wifi|wlan|ath\d|mt7|battery|bat\d|gpu|amdgpu|nouveau|"
    r"radeon|nvidia|mlx|sfp|ucsi|dimm|spd|jc42",
    re.I,
)

#: Temperatures outside this range are a broken sensor, not a reading.
PLAUSIBLE_C = (-40.0, 150.0)


class Malformed(Exception):
    """A source file exists but its content is not a usable number."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Temperature:
    source: str  # "thermal_zone0:x86_pkg_temp", "hwmon1:coretemp:Package id 0"
    kind: str  # cpu | other | device
    celsius: float


@dataclass(frozen=True)
class CpuFreq:
    """One CPU's frequency in MHz; ``limit_mhz`` is the policy ceiling (scaling_max_freq)."""

    cpu: str
    cur_mhz: float
    max_mhz: float
    limit_mhz: float | None = None

    @property
    def capped(self) -> bool:
        """The ceiling was lowered below the hardware maximum (what cooling drivers do).

        A current frequency below the maximum alone is not capping: idle CPUs clock down."""
        return self.limit_mhz is not None and self.limit_mhz < self.max_mhz


@dataclass(frozen=True)
class Problem:
    source: str  # the file's path
    reason: str


@dataclass(frozen=True)
class SysfsReading:
    temperatures: tuple[Temperature, ...] = ()
    freqs: tuple[CpuFreq, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)  # "cpu0/core_throttle_count" -> n
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Layout:
    """The source files found under one root."""

    root: Path
    temps: tuple[tuple[str, str, str], ...] = ()  # (source, kind, file in millidegrees)
    cpufreq: tuple[tuple[str, str, str, str | None], ...] = ()  # (cpu, cur, max, limit files)
    counters: tuple[tuple[str, str], ...] = ()  # ("cpu0/core_throttle_count", file)
    psutil: bool = False  # the real /sys had no sensor files: ask psutil.sensors_temperatures

    @property
    def empty(self) -> bool:
        return not (self.temps or self.cpufreq or self.counters or self.psutil)


def kind_of(*names: str) -> str:
    text = " ".join(names)
    if _DEVICE.search(text):
        return "device"
    return "cpu" if _CPU.search(text) else "other"


def _label(path: Path, fallback: str) -> str:
    """A name file (zone type, hwmon name, temp label); the fallback when it is unusable."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or fallback
    except OSError:
        return fallback


def _natural(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name))


def _zones(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for zone in sorted((root / "class/thermal").glob("thermal_zone*"), key=_natural):
        if (zone / "temp").exists():
            kind_name = _label(zone / "type", "unknown")
            out.append((f"{zone.name}:{kind_name}", kind_of(kind_name), str(zone / "temp")))
    return out


def _hwmon(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for chip in sorted((root / "class/hwmon").glob("hwmon*"), key=_natural):
        name = _label(chip / "name", _label(chip / "device/name", chip.name))
        for temp in sorted(chip.glob("temp*_input"), key=_natural):
            stem = temp.name.removesuffix("_input")
            label = _label(chip / f"{stem}_label", stem)
            out.append((f"{chip.name}:{name}:{label}", kind_of(name, label), str(temp)))
    return out


def _cpus(root: Path) -> list[Path]:
    cpus = (root / "devices/system/cpu").glob("cpu[0-9]*")
    return sorted((c for c in cpus if c.name[3:].isdigit()), key=_natural)


def discover(root: Path | str) -> Layout:
    root = Path(root)
    cpus = _cpus(root)
    temps = tuple(_zones(root) + _hwmon(root))
    real = root.resolve() == REAL_SYSFS
    return Layout(
        root=root,
        temps=temps,
        cpufreq=tuple(filter(None, (_cpufreq_files(c) for c in cpus))),
        counters=tuple(
            (f"{c.name}/{f.name}", str(f))
            for c in cpus
            for f in sorted((c / "thermal_throttle").glob("*_count"))
        ),
        psutil=real and not temps and bool(psutil_temperatures()),
    )


def _cpufreq_files(cpu: Path) -> tuple[str, str, str, str | None] | None:
    folder = cpu / "cpufreq"
    cur, top, limit = (
        folder / n for n in ("scaling_cur_freq", "cpuinfo_max_freq", "scaling_max_freq")
    )
    if not (cur.exists() and top.exists()):
        return None
    return cpu.name, str(cur), str(top), str(limit) if limit.exists() else None


def read_int(path: str) -> int:
    """The integer in a sysfs file; ``Malformed`` when it is unreadable, empty or not a number.

    Plain ``os.read``: a poll reads dozens of these files, and this is ~3x cheaper than
    ``Path.read_text``."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            text = os.read(fd, 64).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
    except OSError as exc:
        raise Malformed(path, f"unreadable ({exc.strerror or type(exc).__name__})") from None
    if not text:
        raise Malformed(path, "empty")
    try:
        return int(text)
    except ValueError:
        raise Malformed(path, f"not a number: {text[:20]!r}") from None


def _read_celsius(path: str) -> float:
    celsius = read_int(path) / 1000.0
    if not PLAUSIBLE_C[0] <= celsius <= PLAUSIBLE_C[1]:
        raise Malformed(path, f"implausible temperature {celsius:g} C")
    return celsius


def _read_freq(cpu: str, cur: str, top: str, limit: str | None) -> CpuFreq:
    max_khz = read_int(top)
    if max_khz <= 0:
        raise Malformed(top, f"maximum frequency {max_khz}")
    return CpuFreq(
        cpu=cpu,
        cur_mhz=read_int(cur) / 1000.0,
        max_mhz=max_khz / 1000.0,
        limit_mhz=read_int(limit) / 1000.0 if limit else None,
    )


def psutil_temperatures() -> list[Temperature]:
    """psutil's view of the real machine (used only when /sys shows no sensor files itself)."""
    import psutil

    try:
        chips = psutil.sensors_temperatures()
    except (AttributeError, OSError, RuntimeError):  # not supported on this platform
        return []
    out = []
    for chip, entries in chips.items():
        for i, entry in enumerate(entries):
            celsius = entry.current
            if celsius is not None and PLAUSIBLE_C[0] <= celsius <= PLAUSIBLE_C[1]:
                label = entry.label or f"temp{i + 1}"
                out.append(Temperature(f"psutil:{chip}:{label}", kind_of(chip, label), celsius))
    return out


def read(layout: Layout) -> SysfsReading:
    """One poll of every source in ``layout``; bad files become problems, not exceptions."""
    temps: list[Temperature] = []
    freqs: list[CpuFreq] = []
    counters: dict[str, int] = {}
    problems: list[Problem] = []
    for source, kind, path in layout.temps:
        try:
            temps.append(Temperature(source, kind, _read_celsius(path)))
        except Malformed as exc:
            problems.append(Problem(str(exc.path), exc.reason))
    if layout.psutil:
        temps.extend(psutil_temperatures())
    for files in layout.cpufreq:
        try:
            freqs.append(_read_freq(*files))
        except Malformed as exc:
            problems.append(Problem(str(exc.path), exc.reason))
    for key, path in layout.counters:
        try:
            counters[key] = read_int(path)
        except Malformed as exc:
            problems.append(Problem(str(exc.path), exc.reason))
    return SysfsReading(tuple(temps), tuple(freqs), counters, tuple(problems))
