"""The ``bench --thermal`` report: latency against temperature and time, states, throttling.

Why these numbers: heat shows in latency two ways -- turns made while hot are slower
(Pearson correlation of each turn's latency with the temperature during it) and a long run
drifts (least-squares slope of the windowed p50, in ms per minute, which needs no sensor).
The versioned JSON document is described, with its schema, in docs/thermal.md; ``--csv``
writes the same samples and turns as one table.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from voicecli.bench.report import envelope, percentiles, write_text
from voicecli.bench.thermal import Sample, ThermalRun, TurnSample
from voicecli.thermal.state import HOT, LABELS, NO_SENSOR, STATES

REPORT_SCHEMA = "voicecli-bench-thermal"
REPORT_VERSION = 1
METRICS = ("voice_to_voice_ms", "eos_to_transcript_ms", "stt_compute_ms")
CPU_TARGET_PERCENT = 0.5  # the monitor's own cost at one poll a second, % of one core


def pearson(xs: list[float | None], ys: list[float | None]) -> tuple[float | None, int]:
    """Pearson's r over the pairs where both are known; None below 3 pairs or with no spread."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    if len(pairs) < 3:
        return None, len(pairs)
    a, b = np.array(pairs, dtype=float).T
    if np.std(a) == 0 or np.std(b) == 0:
        return None, len(pairs)
    return round(float(np.corrcoef(a, b)[0, 1]), 4), len(pairs)


def window_s(duration_s: float) -> float:
    """Six windows over the run, each 10 s to 60 s long."""
    return float(min(60.0, max(10.0, round(duration_s / 6))))


def drift(turns: list[TurnSample], wall_s: float) -> dict:
    """p50 of each metric per time window, and the least-squares slope of those p50s."""
    width = window_s(wall_s)
    count = max(1, int(np.ceil(wall_s / width)))
    windows = []
    for index in range(count):
        inside = [t for t in turns if index * width <= t.t_s < (index + 1) * width]
        if index == count - 1:
            inside += [t for t in turns if t.t_s >= count * width]  # the last one ran over
        windows.append(
            {
                "t_s": round((index + 0.5) * width, 1),
                "n": len(inside),
                "p50": {
                    m: percentiles([t.latencies.get(m) for t in inside])["p50"] for m in METRICS
                },
            }
        )
    slopes = {}
    for metric in METRICS:
        points = [
            (w["t_s"] / 60, w["p50"][metric]) for w in windows if w["p50"][metric] is not None
        ]
        slope = None
        if len(points) >= 2:
            minutes, p50s = np.array(points, dtype=float).T
            slope = round(float(np.polyfit(minutes, p50s, 1)[0]), 2)
        slopes[metric] = slope
    return {"window_s": width, "windows": windows, "slope_ms_per_min": slopes}


def state_times(samples: list[Sample], wall_s: float) -> dict[str, float]:
    """Seconds in each state: each poll's state holds until the next poll (the last: the end)."""
    times = dict.fromkeys(STATES, 0.0)
    for sample, after in zip(samples, [*samples[1:], None], strict=True):
        end = after.t_s if after is not None else max(wall_s, sample.t_s)
        times[sample.state] += max(0.0, end - sample.t_s)
    return {state: round(seconds, 2) for state, seconds in times.items()}


def _throttle(samples: list[Sample], events: list[dict], wall_s: float) -> dict:
    starts = [
        {"t_s": e["t_s"], "reasons": e["throttle_reasons"]}
        for e, before in zip(events, [None, *events[:-1]], strict=True)
        if e["throttled"] and (before is None or not before["throttled"])
    ]
    held = 0.0
    for sample, after in zip(samples, [*samples[1:], None], strict=True):
        if sample.throttled:
            held += (after.t_s if after else max(wall_s, sample.t_s)) - sample.t_s
    return {"events": starts, "count": len(starts), "time_s": round(held, 2)}


def _temperature(samples: list[Sample]) -> dict | None:
    temps = [s.temp_c for s in samples if s.temp_c is not None]
    if not temps:
        return None
    return {
        "min": round(min(temps), 2),
        "max": round(max(temps), 2),
        "mean": round(float(np.mean(temps)), 2),
        "first": temps[0],
        "last": temps[-1],
    }


def _monitor(run: ThermalRun, interval_s: float) -> dict:
    per_poll_ms = 1000 * run.monitor_cpu_s / run.polls if run.polls else None
    return {
        "interval_s": interval_s,
        "polls": run.polls,
        "cpu_s": round(run.monitor_cpu_s, 4),
        "cpu_percent": round(100 * run.monitor_cpu_s / run.monitor_wall_s, 4)
        if run.monitor_wall_s
        else None,
        "cpu_ms_per_poll": None if per_poll_ms is None else round(per_poll_ms, 4),
        # one poll a second: ms of CPU per second of time = tenths of a percent
        "cpu_percent_at_1hz": None if per_poll_ms is None else round(per_poll_ms / 10, 4),
        "target_percent_at_1hz": CPU_TARGET_PERCENT,
    }


def build_report(run: ThermalRun, config: dict) -> dict:
    """The whole report as a JSON-ready dict (schema: docs/thermal.md)."""
    sources = sorted({s.source for s in run.samples if s.source})
    temps = [t.temp_c for t in run.turns]
    correlation = {}
    for metric in METRICS:
        r, n = pearson(temps, [t.latencies.get(metric) for t in run.turns])
        correlation[metric] = {"r": r, "n": n}
    entered = [e for e in run.events if e["state"] != e["previous"]]
    times = state_times(run.samples, run.wall_s)
    summary = {
        "wall_s": round(run.wall_s, 2),
        "utterances": run.utterances,
        "turns": len(run.turns),
        "pipeline_errors": len(run.errors),
        "sensors": sources,  # the readings that drove the state; [] with no sensor
        "sensor_label": ", ".join(sources) if sources else LABELS[NO_SENSOR],
        "temperature_c": _temperature(run.samples),
        "latency_ms": {m: percentiles([t.latencies.get(m) for t in run.turns]) for m in METRICS},
        "correlation": correlation,
        "drift": drift(run.turns, run.wall_s),
        "states": {
            "entered": [
                {
                    "t_s": e["t_s"],
                    "state": e["state"],
                    "previous": e["previous"],
                    "temp_c": e["temp_c"],
                }
                for e in entered
            ],
            "time_s": times,
        },
        "throttle": _throttle(run.samples, run.events, run.wall_s),
        "protection": {
            "engaged": sum(e["state"] == HOT for e in entered),
            "time_s": times[HOT],
            "turns": sum(t.protected for t in run.turns),
        },
        "monitor": _monitor(run, config["interval_s"]),
        "load": {"helpers": run.helpers, "left_running": run.helpers_left},
        "warnings": run.warnings,
    }
    return {
        **envelope(REPORT_SCHEMA, REPORT_VERSION),
        "config": config,
        "summary": summary,
        "samples": [_sample(s) for s in run.samples],
        "turns": [_turn(t) for t in run.turns],
    }


def _sample(sample: Sample) -> dict:
    return {
        "t_s": sample.t_s,
        "temp_c": sample.temp_c,
        "source": sample.source,
        "state": sample.state,
        "throttled": sample.throttled,
        "throttle_reasons": sample.throttle_reasons,
        "freq_mhz": sample.freq_mhz,
        "freq_max_mhz": sample.freq_max_mhz,
    }


def _turn(turn: TurnSample) -> dict:
    return {
        "t_s": turn.t_s,
        "file": turn.file,
        "run": turn.run,
        "text": turn.text,
        "temp_c": turn.temp_c,
        "state": turn.state,
        "protected": turn.protected,
        "latencies_ms": turn.latencies,
    }


CSV_COLUMNS = (
    "kind",
    "t_s",
    "temp_c",
    "source",
    "state",
    "throttled",
    "throttle_reasons",
    "freq_mhz",
    "freq_max_mhz",
    "file",
    "text",
    "protected",
    *METRICS,
)


def write_csv(report: dict, path: Path) -> None:
    """One row per sample (``kind`` = sample) and per turn (``kind`` = turn), by time."""
    rows = [
        {"kind": "sample", **s, "throttle_reasons": " ".join(s["throttle_reasons"])}
        for s in report["samples"]
    ]
    for turn in report["turns"]:
        latencies = turn["latencies_ms"]
        rows.append(
            {
                "kind": "turn",
                **{k: turn[k] for k in ("t_s", "temp_c", "state", "file", "text", "protected")},
                **{m: latencies.get(m) for m in METRICS},
            }
        )
    rows.sort(key=lambda row: row["t_s"])
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, out.getvalue(), "CSV")
