"""The bench report: per-stage percentiles, WER per set, reply latency per backend, and the
versioned JSON document.

Why one builder: the Rich table, ``--report`` and ``--compare`` all read the same dict, whose
schema is documented (and validated by the tests) in docs/bench.md. Bump ``REPORT_VERSION``
when a field changes meaning; ``READABLE_VERSIONS`` are those ``--compare`` still reads.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from voicecli import __version__
from voicecli.bench.run import LATENCY_FIELDS, TurnResult, UtteranceRun
from voicecli.bench.wer import WordErrors, normalize, word_errors
from voicecli.core.errors import UsageError
from voicecli.listen.short_window import find_repeat
from voicecli.reply.brain import BRAINS

REPORT_SCHEMA = "voicecli-bench"
REPORT_VERSION = 3  # 2: turns' backend and first_token_ms, summary.reply_by_backend, config.llm
# 3: wer.words (reference words per set), summary.noise (false transcripts on --noise)
READABLE_VERSIONS = (1, 2, 3)  # what --compare reads: versions 2 and 3 only added fields
STAGES = ("vad_frame_ms", *LATENCY_FIELDS)
REPLY_FIELDS = ("first_token_ms", "reply_ms", "tts_first_audio_ms", "voice_to_voice_ms")


@dataclass
class Measurement:
    """What a bench run measured beyond the utterances themselves."""

    vad_frame_ms: list[float]
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    config: dict


def percentiles(values: list[float]) -> dict:
    """p50/p95/p99 (linear interpolation), mean and count; nulls when there is no value."""
    values = [v for v in values if v is not None]
    if not values:
        return {"p50": None, "p95": None, "p99": None, "mean": None, "n": 0}
    p50, p95, p99 = (round(float(x), 3) for x in np.percentile(values, [50, 95, 99]))
    return {
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "mean": round(float(np.mean(values)), 3),
        "n": len(values),
    }


def _rate(counted: WordErrors) -> float | None:
    return round(counted.errors / counted.words, 5) if counted.words else None


def _wer_by_set(pairs: list[tuple[str, WordErrors]]) -> dict:
    sets: dict[str, WordErrors] = {}
    for name, counted in pairs:
        sets[name] = sets.get(name, WordErrors(0, 0)) + counted
    total = sum(sets.values(), WordErrors(0, 0))
    return {
        "all": _rate(total),
        "sets": {name: _rate(c) for name, c in sorted(sets.items())},
        "words": {"all": total.words, **{name: c.words for name, c in sorted(sets.items())}},
    }


def _noise_summary(runs: list[UtteranceRun]) -> dict:
    """False transcripts (turns with any word) on speech-free recordings, for the pipeline
    and, when it ran, for ``transcribe()`` on the same VAD-cut audio; per minute of noise."""
    minutes = sum(r.item.duration_s for r in runs) / 60
    heard = [t.text for r in runs for t in r.turns if normalize(t.text)]
    row = {
        "files": len(runs),
        "minutes": round(minutes, 3),
        "false_transcripts": len(heard),
        "per_minute": round(len(heard) / minutes, 3) if minutes else None,
        "texts": heard,
        "baseline": None,
    }
    turns = [t for r in runs for t in r.turns]
    if all(t.baseline is not None for t in turns):
        base = [t.baseline.text for t in turns if normalize(t.baseline.text)]
        row["baseline"] = {
            "false_transcripts": len(base),
            "per_minute": round(len(base) / minutes, 3) if minutes else None,
            "texts": base,
        }
    return row


def _utterance(run: UtteranceRun) -> dict:
    counted = word_errors(run.item.reference, run.hypothesis)
    record = {
        "file": run.item.name,
        "set": run.item.set,
        "run": run.run,
        "audio_s": round(run.item.duration_s, 3),
        "reference": run.item.reference,
        "hypothesis": run.hypothesis,
        "wer": round(counted.rate, 5),
        "errors": counted.errors,
        "words": counted.words,
        "fallback": any(t.fallback for t in run.turns),
        "repeat": find_repeat(run.hypothesis.split()) is not None,
        "pipeline_errors": run.errors,
        "turns": [
            {
                "turn": t.turn,
                "text": t.text,
                "utterance_s": None if t.utterance_s is None else round(t.utterance_s, 3),
                "fallback": t.fallback,
                "backend": t.backend,
                "first_token_ms": t.first_token_ms,
                "latencies_ms": t.latencies,
                "baseline": _baseline_turn(t.baseline),
                "baseline_prompted": _baseline_turn(t.baseline_prompted),
            }
            for t in run.turns
        ],
        "baseline": None,
    }
    base = run.baseline_hypothesis
    if base is not None:
        counted = word_errors(run.item.reference, base)
        record["baseline"] = {
            "hypothesis": base,
            "wer": round(counted.rate, 5),
            "errors": counted.errors,
        }
    return record


def _baseline_turn(result) -> dict | None:
    if result is None:
        return None
    return {"text": result.text, "stt_compute_ms": round(result.compute_ms, 1)}


def _prompted_summary(runs: list[UtteranceRun], plain_compute: dict) -> dict | None:
    """``transcribe()`` with the pipeline's own recognition prompt (``stt.bias``): WER per set
    and compute, next to plain ``transcribe()``; None when the pipeline had no prompt."""
    turns = [t for r in runs for t in r.turns]
    if not turns or any(t.baseline_prompted is None for t in turns):
        return None
    pairs = []
    for run in runs:
        text = " ".join(t.baseline_prompted.text for t in run.turns).strip()
        pairs.append((run.item.set, word_errors(run.item.reference, text)))
    compute = percentiles([t.baseline_prompted.compute_ms for t in turns])
    ratio = None
    if compute["p50"] and plain_compute["p50"]:
        ratio = round(compute["p50"] / plain_compute["p50"], 3)
    return {
        "prompt": turns[0].prompt,
        "wer": _wer_by_set(pairs),
        "stt_compute_ms": compute,
        "compute_ratio": ratio,  # against transcribe() without the prompt
    }


def _baseline_summary(runs: list[UtteranceRun], records: list[dict], short_compute: dict) -> dict:
    turns = [t for r in runs for t in r.turns]
    compute = percentiles([t.baseline.compute_ms for t in turns])
    pairs_base, pairs_short, paired = [], [], {}
    for run, rec in zip(runs, records, strict=True):
        base = word_errors(run.item.reference, rec["baseline"]["hypothesis"])
        short = word_errors(run.item.reference, rec["hypothesis"])
        pairs_base.append((run.item.set, base))
        pairs_short.append((run.item.set, short))
        side = paired.setdefault(run.item.set, {"better": 0, "worse": 0, "same": 0})
        key = (
            "same"
            if short.errors == base.errors
            else "better"
            if short.errors < base.errors
            else "worse"
        )
        side[key] += 1
    wer_base, wer_short = _wer_by_set(pairs_base), _wer_by_set(pairs_short)
    for name, side in paired.items():
        a, b = wer_short["sets"][name], wer_base["sets"][name]
        side["wer_diff"] = None if a is None or b is None else round(a - b, 5)
    ratio = None
    if compute["p50"] and short_compute["p50"]:
        ratio = round(compute["p50"] / short_compute["p50"], 3)
    return {
        "method": "WhisperModel.transcribe(beam_size=5, temperature=0, vad_filter=True)",
        "wer": wer_base,
        "stt_compute_ms": compute,
        "rtf": percentiles([t.baseline.compute_ms / 1000 / t.utterance_s for t in turns]),
        "compute_ratio": ratio,
        "repeats": sum(
            find_repeat(r["baseline"]["hypothesis"].split()) is not None for r in records
        ),
        "paired": paired,
        "prompted": _prompted_summary(runs, compute),
    }


def _reply_by_backend(turns: list[TurnResult]) -> dict:
    """Per label (what answered the turn): turns, and the reply latencies' percentiles; the
    first token's only for a language model (a label that is not a plain brain's name)."""
    groups: dict[str, list[TurnResult]] = {}
    for turn in turns:
        groups.setdefault(turn.backend, []).append(turn)
    rows = {}
    for label, group in sorted(groups.items()):
        row: dict = {"n": len(group)}
        for name in REPLY_FIELDS:
            if name == "first_token_ms":
                llm = label not in BRAINS
                row[name] = percentiles([t.first_token_ms for t in group]) if llm else None
            else:
                row[name] = percentiles([t.latencies.get(name) for t in group])
        rows[label] = row
    return rows


def build_report(runs: list[UtteranceRun], measured: Measurement) -> dict:
    """The whole report as a JSON-ready dict (schema: docs/bench.md); runs of noise items
    (``--noise``) only count false transcripts, apart from the WER."""
    noise = [run for run in runs if run.item.is_noise]
    runs = [run for run in runs if not run.item.is_noise]
    records = [_utterance(run) for run in runs]
    turns = [t for run in runs for t in run.turns]
    stages = {"vad_frame_ms": percentiles(measured.vad_frame_ms)}
    for name in LATENCY_FIELDS:
        stages[name] = percentiles([t.latencies.get(name) for t in turns])
    rtf = [
        t.latencies["stt_compute_ms"] / 1000 / t.utterance_s
        for t in turns
        if t.latencies.get("stt_compute_ms") is not None and t.utterance_s
    ]
    fallbacks = sum(t.fallback for t in turns)
    summary = {
        "utterances": len(runs),
        "turns": len(turns),
        "stages": stages,
        "reply_by_backend": _reply_by_backend(turns),
        "rtf": percentiles(rtf),
        "wer": _wer_by_set(
            [(r.item.set, word_errors(r.item.reference, r.hypothesis)) for r in runs]
        ),
        "fallbacks": fallbacks,
        "fallback_rate": round(fallbacks / len(turns), 5) if turns else None,
        "repeats": sum(rec["repeat"] for rec in records),
        "pipeline_errors": sum(len(rec["pipeline_errors"]) for rec in records),
        "peak_rss_mb": round(measured.peak_rss_mb, 1),
        "cpu_percent": round(100 * measured.cpu_s / measured.wall_s, 1)
        if measured.wall_s
        else None,
        "wall_s": round(measured.wall_s, 2),
        "baseline": None,
        "noise": _noise_summary(noise) if noise else None,
    }
    if runs and all(rec["baseline"] is not None for rec in records):
        summary["baseline"] = _baseline_summary(runs, records, stages["stt_compute_ms"])
    return {
        **envelope(REPORT_SCHEMA, REPORT_VERSION),
        "config": measured.config,
        "summary": summary,
        "utterances": records,
    }


def envelope(schema: str, version: int) -> dict:
    """The head every bench report starts with: what it is, when, by what, on what."""
    return {
        "schema": schema,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "voicecli_version": __version__,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }


def write_text(path: Path, text: str, what: str = "report") -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def write_report(report: dict, path: Path) -> None:
    write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def read_report(path: Path) -> dict:
    """A report written by ``--report``; anything else is a clear usage error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--compare {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--compare {path}: not a readable JSON report ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise UsageError(f"--compare {path}: not a voicecli bench report")
    if data.get("version") not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise UsageError(
            f"--compare {path}: report version {data.get('version')}, "
            f"this voicecli reads versions {readable}"
        )
    return data
