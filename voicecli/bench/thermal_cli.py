"""``voicecli bench --thermal``: options checked, the run with a progress bar, its outputs.

Why apart from commands/bench.py: that command measures a corpus once; this one measures
minutes of it against the heat, with its own options, report and CSV.
"""

from __future__ import annotations

import resource
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from voicecli.bench.report import write_report
from voicecli.bench.thermal import check_load, parse_duration, run_thermal
from voicecli.bench.thermal_report import build_report, write_csv
from voicecli.bench.thermal_view import render
from voicecli.core.config import LoadedConfig

DEFAULT_DURATION = "10m"


def run_command(
    loaded: LoadedConfig,
    *,
    corpus: Path | None,
    limit: int | None,
    duration: str | None,
    load: int,
    tail_s: float,
    warmup: bool,
    report: Path | None,
    csv: Path | None,
) -> dict:
    """The whole ``--thermal`` run; returns the report (also printed and written)."""
    from voicecli.bench.corpus import default_corpus, load_corpus
    from voicecli.pipeline.pipeline import Engines
    from voicecli.thermal.state import Thresholds

    duration_s = parse_duration(duration or DEFAULT_DURATION)
    check_load(load)
    config = loaded.config
    Thresholds.from_config(config.thermal)  # bad thresholds: exit 2 before any model loads
    items = load_corpus(corpus, limit) if corpus else default_corpus(limit)
    engines = Engines.load(config)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("bench --thermal", total=duration_s)
        run = run_thermal(
            engines,
            config,
            items,
            duration_s=duration_s,
            load=load,
            tail_s=tail_s,
            warmup=warmup,
            on_progress=lambda elapsed: progress.update(task, completed=min(elapsed, duration_s)),
        )
    thermal = config.thermal
    result = build_report(
        run,
        {
            "corpus": str(corpus) if corpus else "default",
            "limit": limit,
            "model": config.stt.model,
            "duration_s": duration_s,
            "load": load,
            "interval_s": thermal.interval_s,
            "tail_s": tail_s,
            "warmup": warmup,
            "sysfs_root": thermal.sysfs_root,
            "warn_c": thermal.warn_c,
            "hot_c": thermal.hot_c,
            "resume_c": thermal.resume_c,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    )
    render(result, Console())
    if report:
        write_report(result, report)
    if csv:
        write_csv(result, csv)
    return result
