"""``voicecli bench --turns``: the corpus gathered, the run with a progress bar, its outputs.

Why apart from commands/bench.py: as with ``--thermal``, the turn benchmark has its own corpus
(recordings with known turn counts), report and table.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from voicecli.bench.report import write_report
from voicecli.bench.turn_corpus import PAD_AFTER_S, PAD_BEFORE_S, discover, synthetic_corpus
from voicecli.bench.turns import build_turns_report, render_turns, run_turns
from voicecli.core.config import Config
from voicecli.core.errors import ModelMissingError
from voicecli.listen.turn import DETECTORS


def run_command(
    config: Config, *, corpus: Path | None, limit: int | None, report: Path | None, fast: bool
) -> dict:
    """The whole ``--turns`` run; returns the report (also printed and written)."""
    from voicecli.pipeline.pipeline import Engines

    items = [*(discover(corpus, limit) if corpus else []), *synthetic_corpus(limit)]
    wanted = dataclasses.replace(config, turn=dataclasses.replace(config.turn, detector="model"))
    engines = Engines.load(wanted)
    if engines.turn_model is None:
        raise ModelMissingError(
            "bench --turns compares the turn model with the rules, and it is not installed",
            hint="install it with: pip install --no-deps pipecat-ai==1.14.0",
        )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("bench --turns", total=len(items))
        runs = run_turns(
            engines,
            config,
            items,
            realtime=not fast,
            on_progress=lambda name: progress.update(task, advance=1, description=name),
        )
    turn = config.turn
    settings = {
        "corpus": str(corpus) if corpus else "synthetic",
        "limit": limit,
        "realtime": not fast,
        "pad_before_s": PAD_BEFORE_S,
        "pad_after_s": PAD_AFTER_S,
        "detectors": list(DETECTORS),
        "turn": {k: v for k, v in dataclasses.asdict(turn).items() if k != "detector"},
        "stt_model": config.stt.model,
    }
    result = build_turns_report(runs, settings)
    render_turns(result, Console())
    if report:
        write_report(result, report)
    return result
