"""The system sampler: CPU load, frequency and memory about once a second, as ``system`` events.

Why a stage of its own: the dashboard, bench and the thermal work all read the same numbers,
taken once, from the event stream.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from voicecli.core.events import Event, SystemStats
from voicecli.core.lifecycle import ManagedThread

if TYPE_CHECKING:
    from voicecli.thermal.monitor import ThermalMonitor


def sample(process, monitor: ThermalMonitor | None = None) -> SystemStats:
    import psutil

    try:
        freq = psutil.cpu_freq()
    except (OSError, RuntimeError, NotImplementedError):
        freq = None
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = None
    return SystemStats(
        cpu_percent=psutil.cpu_percent(interval=None),
        process_cpu_percent=process.cpu_percent(interval=None),
        rss_mb=process.memory_info().rss / 2**20,
        mem_percent=psutil.virtual_memory().percent,
        cpu_freq_mhz=freq.current if freq and freq.current else None,
        load_1m=load,
        **(monitor.status.system_fields() if monitor and monitor.status else {}),
    )


def run_sampler(
    thread: ManagedThread,
    emit: Callable[[Event], None],
    interval_s: float,
    monitor: ThermalMonitor | None = None,
) -> None:
    import psutil

    process = psutil.Process()
    psutil.cpu_percent(interval=None)  # the first call only primes the counters
    process.cpu_percent(interval=None)
    while not thread.wait(interval_s):
        emit(sample(process, monitor))
