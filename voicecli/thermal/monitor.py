"""ThermalMonitor: the one temperature reader in the program, polling in a ManagedThread.

Why one reader: the ``system`` events, the dashboard, ``bench --thermal``, the system-status
skill and thermal protection must all agree on the temperature and the state. Each poll reads
every source (thermal_sources, thermal_vcgencmd), steps the hysteresis (thermal_state), engages
or releases ``ThermalProtection`` and emits a ``thermal`` event whenever the state or the
throttled flag changes. A malformed source is skipped with one ``warning`` event per file.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voicecli.core.config import ThermalConfig
from voicecli.core.events import ErrorEvent, Event, ThermalEvent, WarningEvent
from voicecli.core.lifecycle import ManagedThread
from voicecli.thermal import sources as thermal_sources
from voicecli.thermal import vcgencmd as thermal_vcgencmd
from voicecli.thermal.protection import ThermalProtection
from voicecli.thermal.sources import CpuFreq, Layout, Malformed, Problem, Temperature
from voicecli.thermal.state import HOT, LABELS, NO_SENSOR, StateMachine, Thresholds, ThrottleTracker

RESCAN_S = 30.0  # how often the sysfs tree is searched again for new sources
HISTORY = 120  # temperatures kept for sparklines (two minutes at 1 Hz)


def describe(event: ThermalEvent) -> str:
    """One line for people (plain chat output, the serve log)."""
    heat = f" at {event.temp_c:.0f} °C ({event.source})" if event.temp_c is not None else ""
    line = f"thermal: {LABELS[event.state]}{heat}"
    if event.actions:
        line += f"; protection on: {', '.join(event.actions)}"
    elif event.previous == HOT:
        line += "; protection off"
    if event.throttled:
        line += f"; throttled ({', '.join(event.throttle_reasons)})"
    return line


@dataclass(frozen=True)
class ThermalStatus:
    """One poll's outcome: what consumers (dashboard, bench, skill) read."""

    state: str
    temp_c: float | None
    source: str | None
    throttled: bool
    throttle_reasons: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    temperatures: tuple[Temperature, ...] = ()
    freqs: tuple[CpuFreq, ...] = ()
    vcgencmd_bits: int | None = None
    problems: tuple[Problem, ...] = ()
    wall: float = field(default_factory=time.monotonic)

    @property
    def label(self) -> str:
        """The state as a person reads it ("no sensor", "hot")."""
        return LABELS[self.state]

    def system_fields(self) -> dict[str, object]:
        """The fields this status adds to ``system`` events (events.SystemStats)."""
        return {
            "temp_c": self.temp_c,
            "temp_source": self.source,
            "thermal_state": self.state,
            "throttled": self.throttled,
        }


def _hottest(temps: tuple[Temperature, ...]) -> Temperature | None:
    """The hottest processor reading; an unrecognised one only when there is none."""
    candidates = [t for t in temps if t.kind == "cpu"] or [t for t in temps if t.kind == "other"]
    return max(candidates, key=lambda t: t.celsius) if candidates else None


class ThermalMonitor:
    def __init__(
        self,
        config: ThermalConfig | None = None,
        emit: Callable[[Event], None] | None = None,
        *,
        protection: ThermalProtection | None = None,
        on_status: Callable[[ThermalStatus], None] | None = None,
        throttle_hold_s: float = 5.0,
    ) -> None:
        config = config or ThermalConfig()
        self.thresholds = Thresholds.from_config(config)  # UsageError on bad thresholds
        self.interval_s = config.interval_s
        self.root = Path(config.sysfs_root)
        self.vcgencmd = thermal_vcgencmd.find(config.vcgencmd)
        self.protection = protection or ThermalProtection()
        self._emit = emit or (lambda event: None)
        self._on_status = on_status
        self._machine = StateMachine(self.thresholds)
        self._throttle = ThrottleTracker(throttle_hold_s)
        self._warned: set[str] = set()
        self._layout: Layout | None = None
        self._layout_at = 0.0
        self._lock = threading.Lock()
        self._thread: ManagedThread | None = None
        self.status: ThermalStatus | None = None  # the latest poll; None before the first
        self.polls = 0
        self.cpu_s = 0.0  # CPU time of the monitor thread so far
        self.wall_s = 0.0  # its wall time so far
        self.history: deque[float | None] = deque(maxlen=HISTORY)  # temp_c of recent polls
        self._watchers: list[Callable[[ThermalProtection], None]] = []

    # -- who applies the protection --------------------------------------------------------
    def watch(self, apply: Callable[[ThermalProtection], None]) -> None:
        """Call ``apply(protection)`` now and each time protection engages or is released,
        in that poll, before its ``thermal`` event: a stage that sees the event already runs
        under the new limits. ``apply`` runs in the monitor thread: it must only set flags."""
        with self._lock:
            self._watchers.append(apply)
            apply(self.protection)

    def unwatch(self, apply: Callable[[ThermalProtection], None]) -> None:
        with self._lock:
            if apply in self._watchers:
                self._watchers.remove(apply)

    # -- one poll --------------------------------------------------------------------------
    def _read_vcgencmd(self) -> tuple[int | None, list[Problem]]:
        if self.vcgencmd is None:
            return None, []
        try:
            return thermal_vcgencmd.get_throttled(self.vcgencmd), []
        except Malformed as exc:
            return None, [Problem(str(exc.path), exc.reason)]

    def poll(self) -> ThermalStatus:
        """Read every source once, update state, protection and events; thread-safe."""
        with self._lock:
            now = time.monotonic()
            if self._layout is None or now - self._layout_at >= RESCAN_S:
                self._layout, self._layout_at = thermal_sources.discover(self.root), now
            sysfs = thermal_sources.read(self._layout)
            vc_bits, vc_problems = self._read_vcgencmd()
            problems = sysfs.problems + tuple(vc_problems)
            self._warn(problems)
            hottest = _hottest(sysfs.temperatures)
            previous = self.status
            state = self._machine.update(hottest.celsius if hottest else None)
            if hottest is None and state != NO_SENSOR and previous is not None:
                hottest = _stale(previous)  # the sensor vanished for a poll: keep its last value
            reasons = self._throttle.update(now, sysfs, vc_bits)
            if state == HOT and not self.protection.active:
                self.protection.engage(
                    hottest.celsius if hottest else None, self.thresholds.resume_c
                )
                self._notify()
            elif state != HOT and self.protection.active:
                self.protection.release()
                self._notify()
            status = ThermalStatus(
                state=state,
                temp_c=hottest.celsius if hottest else None,
                source=hottest.source if hottest else None,
                throttled=bool(reasons),
                throttle_reasons=reasons,
                actions=self.protection.actions,
                temperatures=sysfs.temperatures,
                freqs=sysfs.freqs,
                vcgencmd_bits=vc_bits,
                problems=problems,
                wall=now,
            )
            self.status = status
            self.history.append(status.temp_c)
            self.polls += 1
            self._announce(previous, status)
        if self._on_status is not None:
            self._on_status(status)
        return status

    def _notify(self) -> None:
        for apply in list(self._watchers):
            apply(self.protection)

    def _announce(self, previous: ThermalStatus | None, status: ThermalStatus) -> None:
        """A ``thermal`` event on the first poll and when the state or throttled flag changes."""
        if previous is not None and (previous.state, previous.throttled) == (
            status.state,
            status.throttled,
        ):
            return
        self._emit(
            ThermalEvent(
                state=status.state,
                temp_c=status.temp_c,
                source=status.source,
                throttled=status.throttled,
                actions=list(status.actions),
                throttle_reasons=list(status.throttle_reasons),
                previous=previous.state if previous else None,
            )
        )

    def _warn(self, problems: tuple[Problem, ...]) -> None:
        for problem in problems:
            if problem.source not in self._warned:
                self._warned.add(problem.source)
                self._emit(
                    WarningEvent(
                        code="thermal_source_malformed",
                        message=f"thermal source {problem.source}: {problem.reason}; skipped",
                    )
                )

    # -- the thread ------------------------------------------------------------------------
    def _run(self, thread: ManagedThread) -> None:
        cpu0, wall0 = time.thread_time(), time.monotonic()
        while True:
            self.poll()
            self.cpu_s, self.wall_s = time.thread_time() - cpu0, time.monotonic() - wall0
            if thread.wait(self.interval_s):
                return

    def _failed(self, thread: ManagedThread, exc: BaseException) -> None:
        self._emit(
            ErrorEvent(code="thermal_failed", message=f"thermal monitor: {exc!r}", fatal=False)
        )

    def start(self) -> ThermalMonitor:
        """Poll every ``interval_s`` in a ManagedThread (whoever needs the readings is handed
        this monitor: the pipeline, the server, bench)."""
        self._thread = ManagedThread("thermal", self._run, on_error=self._failed).start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop and join the thread; protection in force is released (no one watches now)."""
        stopped = self._thread.stop_and_join(timeout) if self._thread else True
        with self._lock:
            if self.protection.active:
                self.protection.release()
                self._notify()
        return stopped

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def cpu_percent(self) -> float | None:
        """The monitor thread's CPU use in % of one core since it started."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else None


def _stale(previous: ThermalStatus) -> Temperature | None:
    if previous.temp_c is None or previous.source is None:
        return None
    return Temperature(previous.source, "cpu", previous.temp_c)


def read_status(config: ThermalConfig | None = None) -> ThermalStatus:
    """One reading without a thread (doctor, a question asked with no monitor running)."""
    return ThermalMonitor(config).poll()


def describe_sources(config: ThermalConfig) -> list[tuple[bool, str]]:
    """(found, line) for every thermal source under the configured root (``voicecli doctor``)."""
    status = read_status(config)
    lines = [
        (True, f"thermal: {t.source} {t.celsius:.1f} °C" + (" (processor)" * (t.kind == "cpu")))
        for t in status.temperatures
    ]
    if not lines:
        lines.append((False, f"thermal: no temperature sensor under {config.sysfs_root}"))
    if status.freqs:
        capped = sum(f.capped for f in status.freqs)
        first = status.freqs[0]
        lines.append(
            (
                True,
                f"cpufreq: {len(status.freqs)} CPUs ({first.cpu} {first.cur_mhz:.0f} of "
                f"{first.max_mhz:.0f} MHz; {capped} capped)",
            )
        )
    if status.vcgencmd_bits is not None:
        flags = ", ".join(thermal_vcgencmd.decode(status.vcgencmd_bits)) or "no flags"
        lines.append((True, f"vcgencmd: throttled=0x{status.vcgencmd_bits:x} ({flags})"))
    lines.extend((False, f"thermal source {p.source}: {p.reason}") for p in status.problems)
    lines.append((True, f"thermal state: {status.label}"))
    return lines
