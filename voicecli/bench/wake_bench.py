"""``voicecli bench --wake``: detection rate, false accepts per hour and CPU of each wake word.

Why the detector alone (no pipeline): while asleep the detector is all that runs, so its rate
and cost are what hands-free listening costs; the pipeline's own part (chime, turn) is tested
end to end elsewhere. False accepts come with the one-sided 95 % Poisson upper bound on the
rate: with a few minutes of negatives and none accepted, that bound is what can be claimed.
The cutoff sweep shows what a lower cutoff would do on both sides before anyone lowers one.
"""

from __future__ import annotations

import math
import platform
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from voicecli import __version__
from voicecli.bench import wake_corpus
from voicecli.bench.wake_corpus import Clip
from voicecli.core.clock import SAMPLE_RATE
from voicecli.core.config import WakeConfig
from voicecli.listen.wake import WAKE_WORDS, Detection, WakeDetector, check_word, cutoff
from voicecli.listen.wake_gate import BATCH

REPORT_SCHEMA = "voicecli-bench-wake"
REPORT_VERSION = 2  # 2: latency to the gate having it (batch end), model_ms; noise lead-in
FRAME = 512
NEVER = 2.0  # a cutoff no probability crosses
SWEEP = (0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.97)


def poisson_upper(count: int, confidence: float = 0.95) -> float:
    """The one-sided upper confidence bound on a Poisson mean after ``count`` events."""

    def cdf(mean: float) -> float:
        return sum(
            math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1)) for i in range(count + 1)
        )

    low, high = 0.0, count + 10.0 * math.sqrt(count + 1) + 10.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) > 1 - confidence else (low, mid)
    return round(high, 3)


def _feed(clip: Clip, detector: WakeDetector) -> tuple[list[tuple[Detection, int]], float]:
    """Feed one clip as the asleep listener does (BATCH frames at a time); the detections,
    each with the sample at which the gate has it (the end of its batch: the ``wake`` event's
    moment), and CPU seconds (a hot loop: live, with 96 ms between batches, the same work
    costs about twice as much -- benchmarks/wake_cpu.py measures the whole process)."""
    step = FRAME * BATCH
    audio = np.pad(clip.audio, (0, -len(clip.audio) % step))
    found = []
    start = time.thread_time()
    for index in range(0, len(audio), step):
        if (detection := detector.feed(audio[index : index + step])) is not None:
            found.append((detection, detector.fed))
    cpu_s = time.thread_time() - start
    detector.close()
    return found, cpu_s


def score(clip: Clip, word: str, config: WakeConfig) -> dict:
    """One clip at the configured cutoff, and its peak probability with no detection (a
    detection resets the model, which would hide how high it would have gone). Latency: from
    the end of the phrase to the detecting inference (``model_ms``) and to the moment the gate
    has it (``latency_ms``, the ``wake`` event, less the few ms the inference takes)."""
    found, cpu_s = _feed(clip, WakeDetector(word, cutoff(config, word), config.cooldown_s))
    unreset = WakeDetector(word, NEVER)
    _feed(clip, unreset)
    latency = model_ms = None
    if found and clip.phrase_end_s is not None:
        (detection, seen), end = found[0], clip.phrase_end_s * SAMPLE_RATE
        model_ms = round((detection.sample - end) / SAMPLE_RATE * 1000, 1)
        latency = round((seen - end) / SAMPLE_RATE * 1000, 1)
    return {
        "detections": len(found),
        "peak": unreset.peak,
        "latency_ms": latency,
        "model_ms": model_ms,
        "cpu_s": cpu_s,
    }


def _positive_rows(scores: list[tuple[Clip, dict]]) -> list[dict]:
    groups = defaultdict(list)
    for clip, result in scores:
        groups[(clip.family, clip.group)].append(result)
    rows = []
    for (family, group), results in sorted(groups.items()):
        hits = [r for r in results if r["detections"]]
        latencies = [r["latency_ms"] for r in hits if r["latency_ms"] is not None]
        model = [r["model_ms"] for r in hits if r["model_ms"] is not None]
        rows.append(
            {
                "family": family,
                "group": group,
                "n": len(results),
                "detected": len(hits),
                "rate": round(len(hits) / len(results), 3),
                "latency_ms_p50": round(float(np.median(latencies)), 1) if latencies else None,
                "latency_ms_max": max(latencies) if latencies else None,
                "model_ms_p50": round(float(np.median(model)), 1) if model else None,
                "peak_p50": round(float(np.median([r["peak"] for r in results])), 3),
            }
        )
    return rows


def _negative_rows(scores: list[tuple[Clip, dict]]) -> list[dict]:
    groups = defaultdict(list)
    for clip, result in scores:
        groups[clip.group].append((clip, result))
    groups = {**dict(sorted(groups.items())), "all": list(scores)}
    rows = []
    for group, pairs in groups.items():
        seconds = sum(clip.seconds for clip, _ in pairs)
        accepts = sum(result["detections"] for _, result in pairs)
        hours = seconds / 3600
        rows.append(
            {
                "group": group,
                "clips": len(pairs),
                "seconds": round(seconds, 1),
                "false_accepts": accepts,
                "per_hour": round(accepts / hours, 2),
                "per_hour_upper95": round(poisson_upper(accepts) / hours, 2),
                "peak_max": round(max(result["peak"] for _, result in pairs), 3),
                "accepted": [clip.name for clip, result in pairs if result["detections"]],
            }
        )
    return rows


def _sweep(positives: list[dict], negatives: list[dict]) -> list[dict]:
    return [
        {
            "cutoff": level,
            "detection_rate": round(sum(r["peak"] > level for r in positives) / len(positives), 3),
            "negative_clips_above": sum(r["peak"] > level for r in negatives),
        }
        for level in SWEEP
    ]


def run_wake_bench(root: Path, config: WakeConfig, progress=None) -> dict:
    """Score every wake word (only ``config.word`` when set) on the same clips;
    ``progress(text)`` is told what runs."""
    words = (check_word(config.word),) if config.word else tuple(WAKE_WORDS)
    negatives, noises = wake_corpus.real_negatives(root)
    negatives += wake_corpus.generated_negatives()
    families, pending = wake_corpus.voice_families()
    positives = wake_corpus.positives(noises, words, families)
    report_words = {}
    for word in words:
        if progress:
            progress(word)
        mine = [(clip, score(clip, word, config)) for clip in positives if clip.word == word]
        theirs = [(clip, score(clip, word, config)) for clip in negatives]
        every = mine + theirs
        audio_s = sum(clip.seconds for clip, _ in every)
        report_words[word] = {
            "cutoff": cutoff(config, word),
            "positives": _positive_rows(mine),
            "negatives": _negative_rows(theirs),
            "cpu_percent": round(sum(r["cpu_s"] for _, r in every) / audio_s * 100, 3),
            "sweep": _sweep([r for _, r in mine], [r for _, r in theirs]),
        }
    return {
        "schema": REPORT_SCHEMA,
        "version": REPORT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "voicecli": __version__,
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
        "config": {
            "corpus": str(root),
            "cooldown_s": config.cooldown_s,
            "voices": {family: list(names) for family, names in families.items()},
            "rates": list(wake_corpus.RATES),
            "snr_db": wake_corpus.SNR_DB,
            "noises": sorted(noises),
            "families_pending": pending,
        },
        "words": report_words,
    }
