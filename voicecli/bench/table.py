"""Show a bench report as Rich tables, and compare it with an earlier one.

Why apart from the report: the report is data (JSON, schema in docs/bench.md); this is only
how a person reads it. ``compare`` flags a stage (or a backend's first token) whose p50 grew
by more than ``tolerance`` (relative) plus ``slack_ms``, a WER more than ``wer_points`` worse,
or more fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, Group
from rich.table import Table

from voicecli.bench.report import REPLY_FIELDS, STAGES

STAGE_LABELS = {
    "vad_frame_ms": "VAD per frame",
    "eos_to_transcript_ms": "end of speech -> transcript",
    "stt_compute_ms": "STT compute",
    "turn_wait_ms": "turn wait",
    "reply_ms": "reply",
    "tts_first_audio_ms": "TTS first audio",
    "voice_to_voice_ms": "voice to voice",
    "first_token_ms": "first token",
}


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def stage_table(summary: dict) -> Table:
    table = Table(title="Latency per stage (ms)", title_justify="left")
    for column in ("stage", "p50", "p95", "p99", "n"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for name in STAGES:
        row = summary["stages"][name]
        table.add_row(
            STAGE_LABELS[name], *(_ms(row[k]) for k in ("p50", "p95", "p99")), str(row["n"])
        )
    base = summary.get("baseline")
    if base:
        row = base["stt_compute_ms"]
        table.add_row(
            "STT compute, transcribe()",
            *(_ms(row[k]) for k in ("p50", "p95", "p99")),
            str(row["n"]),
        )
    return table


def reply_table(summary: dict) -> Table:
    """Reply latencies per backend label ("skills", "local", "openai", ...)."""
    table = Table(title="Reply by backend (ms)", title_justify="left")
    for column in ("backend", "measure", "p50", "p95", "p99", "n"):
        table.add_column(column, justify="left" if column in ("backend", "measure") else "right")
    for label, row in summary["reply_by_backend"].items():
        measures = [name for name in REPLY_FIELDS if row[name] is not None]
        for index, name in enumerate(measures):
            values = row[name]
            table.add_row(
                f"{label} ({row['n']} turns)" if index == 0 else "",
                STAGE_LABELS[name],
                *(_ms(values[k]) for k in ("p50", "p95", "p99")),
                str(values["n"]),
                end_section=index == len(measures) - 1,
            )
    return table


def quality_table(summary: dict) -> Table:
    base = summary.get("baseline")
    table = Table(title="Word error rate", title_justify="left")
    table.add_column("set")
    table.add_column("words", justify="right")
    table.add_column("short window", justify="right")
    prompted = base.get("prompted") if base else None  # absent before the bias
    if base:
        table.add_column("transcribe()", justify="right")
        table.add_column("difference", justify="right")
        table.add_column("better/same/worse", justify="right")
    if prompted:
        table.add_column("transcribe() + prompt", justify="right")
    names = ["all", *summary["wer"]["sets"]]
    for name in names:
        short = summary["wer"]["all"] if name == "all" else summary["wer"]["sets"][name]
        words = summary["wer"].get("words", {}).get(name)  # absent before version 3
        row = [name, "-" if words is None else str(words), _pct(short)]
        if base:
            old = base["wer"]["all"] if name == "all" else base["wer"]["sets"][name]
            diff = None if short is None or old is None else short - old
            row += [_pct(old), "-" if diff is None else f"{100 * diff:+.1f} pts"]
            paired = base["paired"].get(name)
            row.append(f"{paired['better']}/{paired['same']}/{paired['worse']}" if paired else "")
        if prompted:
            wer = prompted["wer"]
            row.append(_pct(wer["all"] if name == "all" else wer["sets"].get(name)))
        table.add_row(*row)
    return table


def noise_table(noise: dict) -> Table:
    """False transcripts on speech-free recordings (``--noise``), both methods."""
    table = Table(title="False transcripts on noise", title_justify="left")
    for column in ("method", "false transcripts", "per minute", "heard"):
        table.add_column(column, justify="left" if column in ("method", "heard") else "right")
    rows = [("pipeline", noise)]
    if noise["baseline"] is not None:
        rows.append(("transcribe()", noise["baseline"]))
    for label, row in rows:
        per_minute = row["per_minute"]
        table.add_row(
            f"{label} ({noise['files']} files, {noise['minutes']:.1f} min)",
            str(row["false_transcripts"]),
            "-" if per_minute is None else f"{per_minute:.2f}",
            "; ".join(repr(t) for t in row["texts"][:5]),
        )
    return table


def totals_table(summary: dict) -> Table:
    base = summary.get("baseline")
    table = Table(title="Run", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("utterances / turns", f"{summary['utterances']} / {summary['turns']}")
    table.add_row("real-time factor p50 (STT compute / speech)", _ms(summary["rtf"]["p50"]))
    fallback = f"{summary['fallbacks']} ({_pct(summary['fallback_rate'])})"
    table.add_row("full-window fallbacks", fallback)
    table.add_row("hypotheses with a repeated phrase", str(summary["repeats"]))
    if base:
        table.add_row("transcribe() real-time factor p50", _ms(base["rtf"]["p50"]))
        ratio = base["compute_ratio"]
        table.add_row(
            "STT compute p50, transcribe() / short window",
            "-" if ratio is None else f"{ratio:.2f}x",
        )
        table.add_row("transcribe() hypotheses with a repeated phrase", str(base["repeats"]))
    if base and base.get("prompted"):
        ratio = base["prompted"]["compute_ratio"]
        table.add_row(
            "STT compute p50, transcribe() + prompt / transcribe()",
            "-" if ratio is None else f"{ratio:.2f}x",
        )
    table.add_row("pipeline errors", str(summary["pipeline_errors"]))
    table.add_row("peak RSS", f"{summary['peak_rss_mb']:.0f} MB")
    cpu = summary["cpu_percent"]
    table.add_row("process CPU (100 % = one core)", "-" if cpu is None else f"{cpu:.0f} %")
    return table


def render(report: dict, console: Console) -> None:
    summary = report["summary"]
    tables = [stage_table(summary), reply_table(summary), quality_table(summary)]
    if summary.get("noise"):
        tables.append(noise_table(summary["noise"]))
    console.print(Group(*tables, totals_table(summary)))


@dataclass(frozen=True)
class Regression:
    metric: str
    old: float
    new: float
    limit: float


def compare(
    old: dict, new: dict, tolerance: float = 0.2, slack_ms: float = 10.0, wer_points: float = 1.0
) -> list[Regression]:
    """Metrics of ``new`` that got worse than ``old`` beyond the allowed margins."""
    found = []
    for name in STAGES:
        a, b = old["summary"]["stages"][name]["p50"], new["summary"]["stages"][name]["p50"]
        slack = slack_ms if name != "vad_frame_ms" else 0.1
        if a is not None and b is not None and b > a * (1 + tolerance) + slack:
            found.append(Regression(f"{name} p50", a, b, a * (1 + tolerance) + slack))
    old_backends = old["summary"].get("reply_by_backend", {})  # absent in version 1
    for label, row in new["summary"]["reply_by_backend"].items():
        before = (old_backends.get(label) or {}).get("first_token_ms")
        if before is None or row["first_token_ms"] is None:
            continue
        a, b = before["p50"], row["first_token_ms"]["p50"]
        if a is not None and b is not None and b > a * (1 + tolerance) + slack_ms:
            found.append(
                Regression(f"{label} first_token_ms p50", a, b, a * (1 + tolerance) + slack_ms)
            )
    old_wer, new_wer = old["summary"]["wer"], new["summary"]["wer"]
    pairs = [("wer", old_wer["all"], new_wer["all"])]
    pairs += [(f"wer {s}", old_wer["sets"].get(s), v) for s, v in new_wer["sets"].items()]
    for metric, a, b in pairs:
        if a is not None and b is not None and b > a + wer_points / 100:
            found.append(Regression(metric, a, b, a + wer_points / 100))
    a, b = old["summary"]["fallback_rate"], new["summary"]["fallback_rate"]
    if a is not None and b is not None and b > a + 0.05:
        found.append(Regression("fallback_rate", a, b, a + 0.05))
    return found


def regression_table(found: list[Regression]) -> Table:
    table = Table(title="Regressions against --compare", title_justify="left", style="red")
    for column in ("metric", "before", "now", "allowed up to"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for r in found:
        fmt = _pct if r.metric.startswith(("wer", "fallback")) else _ms
        table.add_row(r.metric, fmt(r.old), fmt(r.new), fmt(r.limit))
    return table
