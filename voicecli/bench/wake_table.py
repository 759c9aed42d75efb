"""``voicecli bench --wake`` as Rich tables: one per wake word (positives, negatives, sweep)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _opt(value, fmt: str = "{:.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def render_wake(report: dict, console: Console) -> None:
    for word, data in report["words"].items():
        table = Table(title=f"{word} (cutoff {data['cutoff']}, CPU {data['cpu_percent']:.2f} %)")
        for column in ("audio", "clips", "detected / accepted", "rate", "latency / peak"):
            table.add_column(column, justify="left" if column == "audio" else "right")
        rows = [
            (
                f"wake word, {row['family']}, {row['group']}",
                row["n"],
                row["detected"],
                f"{row['rate']:.0%}",
                f"p50 {_opt(row['latency_ms_p50'])} ms, max {_opt(row['latency_ms_max'])} ms"
                f" (model p50 {_opt(row['model_ms_p50'])} ms)",
            )
            for row in data["positives"]
        ]
        rows += [
            (
                f"{row['group']} ({row['seconds'] / 60:.1f} min)",
                row["clips"],
                row["false_accepts"],
                f"{row['per_hour']:.1f}/h (≤ {row['per_hour_upper95']:.1f}/h)",
                f"peak {row['peak_max']:.3f}",
            )
            for row in data["negatives"]
        ]
        for label, clips, count, rate, detail in rows:
            table.add_row(label, str(clips), str(count), rate, detail)
        console.print(table)
        sweep = "  ".join(
            f"{s['cutoff']}: {s['detection_rate']:.0%} / {s['negative_clips_above']}"
            for s in data["sweep"]
        )
        console.print(f"  cutoff sweep (detected / negative clips above): {sweep}")
    pending = report["config"]["families_pending"]
    if pending:
        console.print(f"voice families pending (not installed): {', '.join(pending)}")
