"""How a person reads a ``bench --thermal`` report: a timeline plot and a summary table.

Why a plot of text rows: it must work in any terminal and in a CI log. Time runs left to
right in equal columns; each row is one series (temperature, frequency, latency p50, state,
throttling), so a latency bump can be read against the heat above it.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from voicecli.bench.thermal_report import METRICS
from voicecli.thermal.state import HOT, LABELS, NO_SENSOR, NORMAL, WARM

SPARKS = "▁▂▃▄▅▆▇█"
STATE_MARKS = {NORMAL: ("n", "green"), WARM: ("w", "yellow"), HOT: ("H", "bold red")}
NO_SENSOR_MARK = ("-", "dim")
LABEL_WIDTH = 16
METRIC_LABELS = {
    "voice_to_voice_ms": "voice to voice",
    "eos_to_transcript_ms": "end of speech -> transcript",
    "stt_compute_ms": "STT compute",
}


def _columns(wall_s: float, width: int) -> list[tuple[float, float]]:
    step = max(wall_s, 1e-9) / width
    return [(i * step, (i + 1) * step) for i in range(width)]


def _bins(points: list[tuple[float, object]], columns, reduce, hold: bool = True) -> list:
    """``reduce`` of the values in each column; a column with none repeats the one before
    (``hold``: a sample stands until the next poll) or stays empty (turns)."""
    out: list = []
    for index, (start, end) in enumerate(columns):
        last = index == len(columns) - 1
        inside = [v for t, v in points if start <= t < end or (last and t >= end)]
        if inside:
            out.append(reduce(inside))
        else:
            out.append(out[-1] if hold and out else None)
    return out


def _spark_row(label: str, values: list[float | None], unit: str, style: str = "") -> Text:
    known = [v for v in values if v is not None]
    row = Text(f"{label:>{LABEL_WIDTH}} ", style="dim")
    if not known:
        return row.append("(none)", style="dim")
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    for v in values:
        row.append(" " if v is None else SPARKS[round((v - low) / span * 7)], style=style)
    return row.append(f" {low:.0f}–{high:.0f} {unit}", style="dim")


def timeline(report: dict, width: int = 60) -> Text:
    """The run as rows of characters, one column per ``wall_s / width`` seconds."""
    summary, samples, turns = report["summary"], report["samples"], report["turns"]
    wall = max(summary["wall_s"], *(s["t_s"] for s in samples), 1.0)
    columns = _columns(wall, width)
    text = Text(f"timeline: {wall:.0f} s, {wall / width:.1f} s per column", style="bold")
    text.append("  (state: n normal, w warm, H hot, - no sensor)\n", style="dim")
    temps = [(s["t_s"], s["temp_c"]) for s in samples if s["temp_c"] is not None]
    if temps:
        text.append(_spark_row("temperature", _bins(temps, columns, max), "°C", "red"))
    else:
        text.append(f"{'temperature':>{LABEL_WIDTH}} ", style="dim").append("no sensor")
    text.append("\n")
    freqs = [(s["t_s"], s["freq_mhz"]) for s in samples if s["freq_mhz"] is not None]
    if freqs:
        text.append(_spark_row("frequency", _bins(freqs, columns, np.mean), "MHz")).append("\n")
    v2v = [(t["t_s"], t["latencies_ms"]["voice_to_voice_ms"]) for t in turns]
    v2v = [(t, v) for t, v in v2v if v is not None]
    text.append(_spark_row("v2v p50", _bins(v2v, columns, np.median, hold=False), "ms", "cyan"))
    text.append("\n" + f"{'state':>{LABEL_WIDTH}} ", style="dim")
    states = _bins([(s["t_s"], s["state"]) for s in samples], columns, lambda v: v[-1])
    for state in states:
        mark, style = STATE_MARKS.get(state, NO_SENSOR_MARK) if state else (" ", "")
        text.append(mark, style=style)
    text.append("\n")
    text.append(f"{'throttled':>{LABEL_WIDTH}} ", style="dim")
    flags = _bins([(s["t_s"], s["throttled"]) for s in samples], columns, any)
    for flag in flags:
        text.append(
            "!" if flag else ("·" if flag is not None else " "), style="red" if flag else ""
        )
    axis = f"0 s{'':>{width - 8}}{wall:.0f} s"
    return text.append(f"\n{'':>{LABEL_WIDTH}} {axis}", style="dim")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def summary_table(report: dict) -> Table:
    s = report["summary"]
    table = Table(title="bench --thermal", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    helpers = s["load"]["helpers"]
    table.add_row("duration", f"{s['wall_s']:.0f} s, {helpers} load helper(s)")
    table.add_row("utterances / turns", f"{s['utterances']} / {s['turns']}")
    table.add_row("sensor", s["sensor_label"])
    temp = s["temperature_c"]
    heat = "no sensor" if temp is None else f"{temp['min']:.1f} to {temp['max']:.1f} °C"
    table.add_row("temperature", heat)
    times = s["states"]["time_s"]
    spent = ", ".join(f"{LABELS[k]} {v:.0f} s" for k, v in times.items() if v > 0)
    table.add_row("time in each state", spent or "-")
    entered = s["states"]["entered"]
    path = " -> ".join(f"{LABELS[e['state']]} ({e['t_s']:.0f} s)" for e in entered)
    table.add_row("states entered", path or "-")
    protection = s["protection"]
    table.add_row(
        "thermal protection",
        f"engaged {protection['engaged']}x, {protection['time_s']:.0f} s, "
        f"{protection['turns']} turn(s) protected",
    )
    throttle = s["throttle"]
    table.add_row("throttle events", f"{throttle['count']} ({throttle['time_s']:.0f} s throttled)")
    for metric in METRICS:
        p = s["latency_ms"][metric]
        r = s["correlation"][metric]["r"]
        slope = s["drift"]["slope_ms_per_min"][metric]
        corr = "no sensor" if temp is None else ("-" if r is None else f"{r:+.2f}")
        drift = "-" if slope is None else f"{slope:+.1f} ms/min"
        table.add_row(
            METRIC_LABELS[metric],
            f"p50 {_ms(p['p50'])} ms, p95 {_ms(p['p95'])} ms (n {p['n']}); "
            f"r with temperature {corr}; drift {drift}",
        )
    m = s["monitor"]
    cost = m["cpu_percent_at_1hz"]
    table.add_row(
        "monitor CPU",
        "-"
        if cost is None
        else f"{cost:.3f} % of one core at 1 Hz ({m['cpu_ms_per_poll']:.2f} ms per poll, "
        f"{m['polls']} polls; target < {m['target_percent_at_1hz']} %)",
    )
    table.add_row("pipeline errors", str(s["pipeline_errors"]))
    return table


def render(report: dict, console: Console) -> None:
    width = max(20, min(60, console.width - LABEL_WIDTH - 16))
    if report["summary"]["temperature_c"] is None:
        console.print(f"thermal: {LABELS[NO_SENSOR]} (latency drift is still measured)")
    console.print(Group(timeline(report, width), Text(""), summary_table(report)))
