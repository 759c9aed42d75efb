"""``voicecli bench --thermal``: the benchmark corpus, looped for minutes, next to the heat.

Why a loop of the ordinary bench runs: the latencies must be the real pipeline's, measured as
``voicecli bench`` measures them (``bench_run.run_utterance``: real time, models shared), while
the thermal monitor samples temperature, frequency and throttling once a poll. Its pipelines
take the monitor's protection like any other (a hot run is measured as a user would live it).
Optional helper processes (``bench_thermal_load``) heat the machine. Report: bench_thermal_report.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voicecli.bench.corpus import CorpusItem
from voicecli.bench.run import LATENCY_FIELDS, run_utterance
from voicecli.bench.thermal_load import MAX_HELPERS, LoadHelpers
from voicecli.core.config import Config
from voicecli.core.errors import UsageError
from voicecli.core.events import Event, ThermalEvent
from voicecli.pipeline.pipeline import Engines
from voicecli.thermal.monitor import ThermalMonitor, ThermalStatus
from voicecli.thermal.sources import REAL_SYSFS

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")
_UNIT_S = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in "20s", "2m", "10m", "1h" or "90"; anything else is a usage error."""
    match = _DURATION.match(text.strip().lower())
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)] if match else 0.0
    if seconds <= 0:
        raise UsageError(f"--duration {text!r}: give a positive time such as 20s, 2m or 10m")
    return seconds


def check_load(load: int) -> int:
    if not 0 <= load <= MAX_HELPERS:
        raise UsageError(f"--load {load}: give 0 to {MAX_HELPERS} helper processes")
    return load


@dataclass(frozen=True)
class Sample:
    """One monitor poll, as the report keeps it."""

    t_s: float  # since the run started
    temp_c: float | None
    source: str | None
    state: str
    throttled: bool
    throttle_reasons: list[str]
    freq_mhz: float | None  # mean current frequency of the CPUs
    freq_max_mhz: float | None  # their highest maximum (None when unknown)


@dataclass(frozen=True)
class TurnSample:
    """One measured turn, with the heat it was made in."""

    t_s: float  # when its utterance's run ended
    file: str
    run: int
    text: str
    latencies: dict[str, float | None]
    temp_c: float | None  # mean of the readings during the utterance
    state: str | None  # the thermal state at its end
    protected: bool  # thermal protection was in force at its end


@dataclass
class ThermalRun:
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    turns: list[TurnSample] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)  # thermal events, with t_s
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # pipeline errors
    utterances: int = 0
    wall_s: float = 0.0
    polls: int = 0
    monitor_cpu_s: float = 0.0  # the monitor thread's own CPU (the sampling here excluded)
    monitor_wall_s: float = 0.0
    helpers: int = 0
    helpers_left: int = 0  # helper processes still running after the run (must be 0)


class Sampler:
    """Keeps every poll (called from the monitor thread) and the events, timed from ``t0``."""

    def __init__(self, real_sysfs: bool) -> None:
        self.t0 = time.monotonic()
        self.real_sysfs = real_sysfs
        self.samples: list[Sample] = []
        self.events: list[dict] = []
        self.warnings: list[str] = []
        self.cpu_s = 0.0  # CPU time spent here, inside the monitor thread
        self._lock = threading.Lock()

    def on_status(self, status: ThermalStatus) -> None:
        started = time.thread_time()
        freq = max_freq = None
        if status.freqs:
            freq = sum(f.cur_mhz for f in status.freqs) / len(status.freqs)
            max_freq = max(f.max_mhz for f in status.freqs)
        elif self.real_sysfs:  # no cpufreq files (a VM, a container): what /proc says
            freq = _psutil_mhz()
        sample = Sample(
            t_s=round(status.wall - self.t0, 3),
            temp_c=status.temp_c,
            source=status.source,
            state=status.state,
            throttled=status.throttled,
            throttle_reasons=list(status.throttle_reasons),
            freq_mhz=None if freq is None else round(freq, 1),
            freq_max_mhz=None if max_freq is None else round(max_freq, 1),
        )
        with self._lock:
            self.samples.append(sample)
        self.cpu_s += time.thread_time() - started

    def on_event(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, ThermalEvent):
                record = {"t_s": round(event.wall - self.t0, 3), **event.to_dict()}
                for key in ("type", "t", "wall", "turn"):
                    record.pop(key)
                self.events.append(record)
            elif event.type in ("warning", "error"):
                self.warnings.append(f"{event.code}: {event.message}")

    def window(self, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if start <= s.t_s <= end]

    def last(self) -> Sample | None:
        with self._lock:
            return self.samples[-1] if self.samples else None


def _psutil_mhz() -> float | None:
    import psutil

    try:
        freq = psutil.cpu_freq()
    except (OSError, RuntimeError, NotImplementedError):
        return None
    return freq.current if freq and freq.current else None


def _turn_samples(result, start: float, end: float, sampler: Sampler, protected: bool):
    during = [s.temp_c for s in sampler.window(start, end) if s.temp_c is not None]
    last = sampler.last()
    temp = sum(during) / len(during) if during else (last.temp_c if last else None)
    for turn in result.turns:
        yield TurnSample(
            t_s=round(end, 3),
            file=result.item.name,
            run=result.run,
            text=turn.text,
            latencies={name: turn.latencies.get(name) for name in LATENCY_FIELDS},
            temp_c=None if temp is None else round(temp, 2),
            state=last.state if last else None,
            protected=protected,
        )


def run_thermal(
    engines: Engines,
    config: Config,
    items: list[CorpusItem],
    *,
    duration_s: float,
    load: int = 0,
    tail_s: float = 1.5,
    warmup: bool = True,
    on_progress: Callable[[float], None] = lambda elapsed: None,
) -> ThermalRun:
    """Loop ``items`` through the pipeline until ``duration_s`` has passed (the utterance in
    progress then finishes), with ``load`` helper processes burning CPU and the monitor
    sampling every ``config.thermal.interval_s``."""
    if not items:
        raise UsageError("the corpus is empty")
    real = Path(config.thermal.sysfs_root).resolve() == REAL_SYSFS
    sampler = Sampler(real)
    monitor = ThermalMonitor(config.thermal, sampler.on_event, on_status=sampler.on_status)
    if warmup:
        run_utterance(engines, config, items[0], run=-1, tail_s=tail_s)
    run = ThermalRun(duration_s=duration_s, helpers=load)
    helpers = LoadHelpers(load)
    sampler.t0 = time.monotonic()
    monitor.start()
    try:
        with helpers:
            while (start := time.monotonic() - sampler.t0) < duration_s:
                item = items[run.utterances % len(items)]
                result = run_utterance(
                    engines, config, item, run=run.utterances // len(items), tail_s=tail_s
                )
                end = time.monotonic() - sampler.t0
                protected = monitor.protection.active
                run.turns.extend(_turn_samples(result, start, end, sampler, protected))
                run.errors.extend(result.errors)
                run.utterances += 1
                on_progress(end)
    finally:
        run.wall_s = time.monotonic() - sampler.t0
        monitor.stop()
        run.helpers_left = helpers.alive()
    run.samples, run.events, run.warnings = sampler.samples, sampler.events, sampler.warnings
    run.polls = monitor.polls
    run.monitor_cpu_s = max(0.0, monitor.cpu_s - sampler.cpu_s)
    run.monitor_wall_s = monitor.wall_s
    return run
