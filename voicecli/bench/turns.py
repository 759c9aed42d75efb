"""``voicecli bench --turns``: cut-offs, merges and waits of the turn detectors, same run.

Why each detector on the same audio: turn-taking trades waiting against cutting people off, so
a detector is only better than another measured on the same recordings, at the same time, on
the same machine load. Each recording goes through the real pipeline once per detector (rules
alone, model alone, combined; models shared), fed in real time by default. A turn declared
inside one true turn is a cut-off, two true turns answered as one a merge (counted per
recording from the number of turns declared). The model's CPU time is measured by a thin
wrapper around the real model, as the STT calls are in ``bench.run``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import numpy as np

from voicecli.audio.source import ArraySource
from voicecli.bench.run import run_to_end
from voicecli.bench.turn_corpus import TurnItem
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.listen.turn import DETECTORS, RULES
from voicecli.pipeline.pipeline import Engines, Pipeline

REPORT_SCHEMA = "voicecli-bench-turns"
REPORT_VERSION = 1
SOURCES = ("rule", "model", "both")


class TimedTurnModel:
    """The real turn model, plus the CPU time of every score."""

    def __init__(self, model) -> None:
        self.model = model
        self.ms: list[float] = []
        self._lock = threading.Lock()

    def score(self, audio: np.ndarray):
        score = self.model.score(audio)
        with self._lock:
            self.ms.append(score.cpu_ms)
        return score


@dataclasses.dataclass
class TurnRun:
    item: TurnItem
    detector: str
    texts: list[str]
    waits_ms: list[float]
    voice_to_voice_ms: list[float]
    eos_to_transcript_ms: list[float]  # live only: how much later STT ends beside the model
    sources: list[str]
    model_cpu_ms: float  # the model's CPU time over the whole recording (every pause)
    errors: list[str]

    @property
    def declared(self) -> int:
        return len(self.texts)

    @property
    def cutoffs(self) -> int:
        return max(0, self.declared - self.item.turns)

    @property
    def merges(self) -> int:
        return max(0, self.item.turns - self.declared)


def run_item(
    engines: Engines, config: Config, item: TurnItem, detector: str, *, realtime: bool = True
) -> TurnRun:
    """One recording through a pipeline whose listener uses ``detector``."""
    timed = TimedTurnModel(engines.turn_model) if engines.turn_model and detector != RULES else None
    turn = dataclasses.replace(config.turn, detector=detector)
    bus = EventBus()
    sub = bus.subscribe(100_000, "bench-turns")
    pipeline = Pipeline(
        config=dataclasses.replace(config, turn=turn),
        engines=dataclasses.replace(engines, turn_model=timed),
        source=ArraySource(item.audio, realtime=realtime, name=item.name),
        bus=bus,
        fast=not realtime,
        session=f"turns-{detector}",
        system_interval_s=None,
    )
    events, errors = run_to_end(pipeline, sub, 120 + len(item.audio) / 16000)
    metrics = [e for e in events if e.type == "turn_metrics"]
    return TurnRun(
        item=item,
        detector=detector,
        texts=[e.text for e in events if e.type == "transcript" and e.final],
        waits_ms=[m.turn_wait_ms for m in metrics if m.turn_wait_ms is not None],
        voice_to_voice_ms=[m.voice_to_voice_ms for m in metrics if m.voice_to_voice_ms is not None],
        eos_to_transcript_ms=[
            m.eos_to_transcript_ms for m in metrics if m.eos_to_transcript_ms is not None
        ],
        sources=[m.turn_source for m in metrics if m.turn_source],
        model_cpu_ms=sum(timed.ms) if timed else 0.0,
        errors=errors,
    )


def run_turns(
    engines: Engines,
    config: Config,
    items: list[TurnItem],
    *,
    realtime: bool = True,
    detectors: tuple[str, ...] = DETECTORS,
    on_progress: Callable[[str], None] = lambda name: None,
) -> list[TurnRun]:
    """Every item under every detector (one warm-up run first)."""
    if items:
        run_item(engines, config, items[0], detectors[-1], realtime=False)
    runs = []
    for item in items:
        for detector in detectors:
            runs.append(run_item(engines, config, item, detector, realtime=realtime))
        on_progress(item.name)
    return runs


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p95": None}
    return {
        "n": len(values),
        "p50": round(float(np.percentile(values, 50)), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
    }


def _summary(runs: list[TurnRun]) -> dict:
    turns = sum(r.declared for r in runs)
    model_ms = [r.model_cpu_ms for r in runs]
    return {
        "recordings": len(runs),
        "true_turns": sum(r.item.turns for r in runs),
        "declared_turns": turns,
        "cutoffs": sum(r.cutoffs for r in runs),
        "merges": sum(r.merges for r in runs),
        "turn_wait_ms": _stats([w for r in runs for w in r.waits_ms]),
        "voice_to_voice_ms": _stats([v for r in runs for v in r.voice_to_voice_ms]),
        "eos_to_transcript_ms": _stats([v for r in runs for v in r.eos_to_transcript_ms]),
        "sources": {s: sum(r.sources.count(s) for r in runs) for s in SOURCES},
        "model_cpu_ms_per_turn": round(sum(model_ms) / turns, 1) if turns else None,
    }


def build_turns_report(runs: list[TurnRun], settings: dict) -> dict:
    """The JSON report (docs/bench.md, "Turn-taking"): per set and detector, and per run."""
    sets: dict[str, dict[str, dict]] = {}
    for name in dict.fromkeys(r.item.set for r in runs):
        sets[name] = {}
        for detector in dict.fromkeys(r.detector for r in runs):
            chosen = [r for r in runs if r.item.set == name and r.detector == detector]
            if chosen:
                sets[name][detector] = _summary(chosen)
    return {
        "schema": REPORT_SCHEMA,
        "version": REPORT_VERSION,
        "config": settings,
        "sets": sets,
        "runs": [
            {
                "name": r.item.name,
                "set": r.item.set,
                "detector": r.detector,
                "true_turns": r.item.turns,
                "declared_turns": r.declared,
                "texts": r.texts,
                "turn_wait_ms": r.waits_ms,
                "sources": r.sources,
                "model_cpu_ms": round(r.model_cpu_ms, 1),
                "errors": r.errors,
            }
            for r in runs
        ],
    }


def render_turns(report: dict, console) -> None:
    """One table: per set and detector, cut-offs, merges, waits and what decided."""
    from rich import box
    from rich.table import Table

    table = Table(
        title="turn-taking (bench --turns); waits in ms", box=box.SIMPLE_HEAD, padding=(0, 1)
    )
    table.add_column("set", no_wrap=True)
    table.add_column("detector", no_wrap=True)
    for column in ("turns", "cut", "merged", "wait p50", "p95", "v2v p50", "rule/model/both"):
        table.add_column(column, justify="right")
    table.add_column("model CPU/turn", justify="right")

    def ms(value) -> str:
        return "–" if value is None else f"{value:.0f}"

    for name, detectors in report["sets"].items():
        for detector, row in detectors.items():
            table.add_row(
                name,
                detector,
                f"{row['declared_turns']}/{row['true_turns']}",
                str(row["cutoffs"]),
                str(row["merges"]),
                ms(row["turn_wait_ms"]["p50"]),
                ms(row["turn_wait_ms"]["p95"]),
                ms(row["voice_to_voice_ms"]["p50"]),
                "/".join(str(row["sources"][s]) for s in SOURCES),
                ms(row["model_cpu_ms_per_turn"]),
            )
    console.print(table)
    errors = [f"{r['name']} ({r['detector']}): {e}" for r in report["runs"] for e in r["errors"]]
    for line in errors:
        console.print(f"[red]error[/red] {line}")
