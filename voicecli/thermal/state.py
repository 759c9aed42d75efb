"""Thermal states with hysteresis, and the separate "throttled" flag.

Why hysteresis: a processor hovering around a threshold must not switch protection on and off
every second. normal -> warm at >= warn_c (back below warn_c - 3); -> hot at >= hot_c
(protection on); hot ends only below resume_c. Readings in between change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicecli.core.config import ThermalConfig
from voicecli.core.errors import UsageError
from voicecli.thermal.sources import SysfsReading
from voicecli.thermal.vcgencmd import NOW_MASK, OCCURRED_MASK, decode

NO_SENSOR = "no_sensor"
NORMAL = "normal"
WARM = "warm"
HOT = "hot"
STATES = (NO_SENSOR, NORMAL, WARM, HOT)
LABELS = {NO_SENSOR: "no sensor", NORMAL: "normal", WARM: "warm", HOT: "hot"}

WARM_BAND_C = 3.0  # warm ends this far below warn_c
MISSING_GRACE = 3  # polls a vanished sensor keeps its last state (a file being rewritten)


@dataclass(frozen=True)
class Thresholds:
    warn_c: float = 75.0
    hot_c: float = 85.0
    resume_c: float = 80.0

    def __post_init__(self) -> None:
        if self.resume_c >= self.hot_c:
            raise UsageError(
                f"thermal.resume_c ({self.resume_c:g}) must be below thermal.hot_c "
                f"({self.hot_c:g}): protection could never switch off",
                hint="set VOICECLI_THERMAL_RESUME_C lower or VOICECLI_THERMAL_HOT_C higher",
            )
        if self.warn_c > self.hot_c:
            raise UsageError(
                f"thermal.warn_c ({self.warn_c:g}) must not be above thermal.hot_c ({self.hot_c:g})"
            )

    @classmethod
    def from_config(cls, config: ThermalConfig) -> Thresholds:
        if config.interval_s <= 0:
            raise UsageError(f"thermal.interval_s must be positive, not {config.interval_s:g}")
        return cls(config.warn_c, config.hot_c, config.resume_c)


def classify(temp_c: float | None, thresholds: Thresholds) -> str:
    """The state of a single reading with no history (a one-shot question)."""
    return next_state(None, temp_c, thresholds)


def next_state(state: str | None, temp_c: float | None, th: Thresholds) -> str:
    if temp_c is None:
        return NO_SENSOR
    if temp_c >= th.hot_c:
        return HOT
    if state == HOT and temp_c >= th.resume_c:
        return HOT
    if state in (WARM, HOT):
        return WARM if temp_c >= th.warn_c - WARM_BAND_C else NORMAL
    return WARM if temp_c >= th.warn_c else NORMAL


class StateMachine:
    """``next_state`` plus a short grace for a sensor that vanishes for a poll or two."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.state: str | None = None
        self._missing = 0

    def update(self, temp_c: float | None) -> str:
        if temp_c is None and self.state not in (None, NO_SENSOR):
            self._missing += 1
            if self._missing < MISSING_GRACE:
                return self.state
        else:
            self._missing = 0
        self.state = next_state(self.state, temp_c, self.thresholds)
        return self.state


class ThrottleTracker:
    """Reasons the processor is slowed down now, from one poll to the next.

    Capped frequencies and the Pi's "now" bits count while they last; a rising Intel throttle
    counter or a newly set Pi "has occurred" bit is an event between polls, held ``hold_s``.
    """

    def __init__(self, hold_s: float = 5.0) -> None:
        self.hold_s = hold_s
        self._counters: dict[str, int] = {}
        self._vc_bits: int | None = None
        self._held: dict[str, float] = {}  # reason -> until (monotonic)

    def update(self, now: float, sysfs: SysfsReading, vc_bits: int | None) -> tuple[str, ...]:
        reasons = []
        if any(f.capped for f in sysfs.freqs):
            reasons.append("cpufreq_capped")
        if any(v > self._counters.get(k, v) for k, v in sysfs.counters.items()):
            self._held["throttle_counter"] = now + self.hold_s
        self._counters = dict(sysfs.counters)
        if vc_bits is not None:
            reasons.extend(f"vcgencmd_{name}" for name in decode(vc_bits & NOW_MASK))
            if self._vc_bits is not None and vc_bits & OCCURRED_MASK & ~self._vc_bits:
                self._held["vcgencmd_occurred"] = now + self.hold_s
            self._vc_bits = vc_bits
        reasons.extend(r for r, until in self._held.items() if until > now)
        return tuple(reasons)
