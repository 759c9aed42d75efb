"""Threshold sweep for turn detection (docs/turns.md): trace once, then try every setting.

Why a trace: a setting only changes *when* the listener declares a turn, not what it hears. So
each pause of each recording is traced once the way the listener sees it (Silero VAD frames,
the speculative transcript at the first silent frames, the Smart Turn score every SCORE_STEP_S
of silence), and each candidate setting is replayed on the traces with the listener's own
``plan``. Tuned on the speaker half 0 of the real ``turns/`` and ``utterances/``, reported on
half 1 (``voicecli.bench.turn_corpus.speaker_half``).

    python benchmarks/turn_sweep.py trace ../shared/audio benchmarks/results/turn_traces.json
    python benchmarks/turn_sweep.py sweep benchmarks/results/turn_traces.json
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from voicecli.audio.vad import SpeechSegmenter, VadStream
from voicecli.bench.turn_corpus import load_turn_corpus, speaker_half, synthetic_corpus
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.config import Config, TurnConfig
from voicecli.listen.listener import PREROLL_FRAMES
from voicecli.listen.turn import COMBINED, DETECTORS, plan

SCORE_STEP_S = 0.128  # traced score interval; the swept intervals are multiples of it
SCORE_UNTIL_S = 1.4  # no scores traced after this much silence (the last one holds)
FRAME_S = FRAME / SAMPLE_RATE
STT_FLOOR_S = 0.3  # end of speech -> transcript, real time on this machine (bench p50 ~0.22-0.3 s)


def trace_item(item, stt, model, config: Config) -> list[dict]:
    """Every pause of one recording: transcript, scores by silence, silence at resumption."""
    vad, seg = VadStream(config.vad.engine), SpeechSegmenter(config.vad)
    recent, buffer, pauses, pause = [], [], [], None
    frames = [item.audio[i : i + FRAME] for i in range(0, len(item.audio) - FRAME + 1, FRAME)]
    for index, frame in enumerate(frames):
        recent = (recent + [frame])[-(PREROLL_FRAMES + seg.min_frames) :]
        decision = seg.update(vad.probability(frame), index)
        if decision.started:
            if pause is not None:
                pause["resumed_s"] = pause["silence_s"]
                pauses.append(pause)
                pause = None
                buffer.append(recent[-1])
            else:
                buffer = list(recent)
            continue
        if seg.in_speech or pause is not None or decision.ended:
            buffer.append(frame)
        if decision.ended:
            pause = {"silence_s": 0.0, "text": None, "scores": []}
        if pause is None:
            continue
        pause["silence_s"] = round(pause["silence_s"] + FRAME_S, 3)
        silence = pause["silence_s"]
        if pause["text"] is None and silence >= 2 * FRAME_S:
            pause["text"] = stt.transcribe(np.concatenate(buffer)).text.strip()
        due = 2 * FRAME_S + len(pause["scores"]) * SCORE_STEP_S
        if pause["text"] is not None and silence >= due - 1e-6 and silence <= SCORE_UNTIL_S:
            pause["scores"].append([silence, model.score(np.concatenate(buffer)).probability])
    if pause is not None:
        pause["resumed_s"] = None  # the end of the recording: silence to the end
        pauses.append(pause)
    return [p for p in pauses if p["text"] and any(ch.isalnum() for ch in p["text"])]


def trace(root: Path, out: Path) -> None:
    from voicecli.listen.turn_model import TurnModel
    from voicecli.pipeline.pipeline import Engines

    config = Config()
    engines = Engines.load(config)
    model = TurnModel.load()
    items = [
        *load_turn_corpus(root / "real" / "turns"),
        *load_turn_corpus(root / "real" / "utterances"),
        *load_turn_corpus(root / "jfk.flac"),
        *synthetic_corpus(),
    ]
    halves = {}
    for half in (0, 1):
        for item in speaker_half([i for i in items if i.set in ("turns", "utterances")], half):
            halves[item.name] = half
    traced = []
    for item in items:
        pauses = trace_item(item, engines.stt, model, config)
        traced.append(
            {
                "name": item.name,
                "set": item.set,
                "turns": item.turns,
                "half": halves.get(item.name),
                "pauses": pauses,
            }
        )
        print(item.name, len(pauses), [p["text"] for p in pauses], file=sys.stderr)
    out.write_text(json.dumps(traced, indent=1))


def replay(pauses: list[dict], detector: str, config: TurnConfig, interval_s: float):
    """Declared turns and the silence at which the last one was declared (None: never).

    The listener checks every frame from the first score on; between two scores the plan is
    fixed, so the first frame at or after its wait (within that span) is the decision."""
    every = max(1, round(interval_s / SCORE_STEP_S))
    declared, last_wait = 0, None
    for pause in pauses:
        scores = []
        for score in pause["scores"][::every]:  # the listener stops once the model says done
            scores.append(score)
            if score[1] >= config.model_threshold:
                break
        scores = scores or [[2 * FRAME_S, None]]
        end = pause["resumed_s"] if pause["resumed_s"] is not None else 10.0
        for index, (start, probability) in enumerate(scores):
            stop = scores[index + 1][0] if index + 1 < len(scores) else end
            wait = plan(pause["text"], probability, detector, config).wait_s
            at = max(start, np.ceil(round(wait / FRAME_S, 6)) * FRAME_S)
            # at the frame speech resumes counts too: a one-frame margin (VAD and STT vary
            # slightly between the trace and a pipeline run)
            if at < stop - 1e-6 and at <= end + 1e-6:
                declared += 1
                last_wait = at
                break
    return declared, last_wait


def evaluate(traced: list[dict], detector: str, config: TurnConfig, interval_s: float, half):
    """Cut-offs, merges and the wait (p50/p95, ms) per set. The wait is floored at STT_FLOOR_S:
    live, a turn cannot be declared before its transcript exists, so a shorter decision wait
    gains nothing and only risks cutting people off."""
    out = {}
    for item in traced:
        if half is not None and item["half"] not in (None, half):
            continue
        row = out.setdefault(item["set"], {"n": 0, "cutoffs": 0, "merges": 0, "waits": []})
        declared, wait = replay(item["pauses"], detector, config, interval_s)
        row["n"] += 1
        row["cutoffs"] += max(0, declared - item["turns"])
        row["merges"] += max(0, item["turns"] - declared)
        if wait is not None:
            row["waits"].append(max(wait, STT_FLOOR_S) * 1000)
    for row in out.values():
        waits = row.pop("waits")
        row["p50_ms"] = round(float(np.percentile(waits, 50))) if waits else None
        row["p95_ms"] = round(float(np.percentile(waits, 95))) if waits else None
    return out


GRID = {
    "model_threshold": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "wait_model_s": (0.064, 0.16, 0.25, 0.35, 0.45),
    "wait_agree_s": (0.064, 0.16, 0.25, 0.35, 0.45),
    "wait_unknown_s": (0.5, 0.6, 0.7, 0.9, 1.25),
    "wait_disagree_s": (0.7, 0.9, 1.25),
    "model_interval_s": (0.128, 0.256, 0.384),
}


def sweep(path: Path) -> None:
    """Tuning half: no cut-off on turns/ or jfk, no more cut-offs + merges on the synthetic
    set than the rules alone; then the lowest utterances p95, p50, and the longest interval."""
    traced = json.loads(path.read_text())
    rules = evaluate(traced, "rules", TurnConfig(), SCORE_STEP_S, half=0)["synthetic"]
    allowed = rules["cutoffs"] + rules["merges"]
    results = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        interval = setting.pop("model_interval_s")
        config = dataclasses.replace(TurnConfig(), **setting)
        tuned = evaluate(traced, COMBINED, config, interval, half=0)
        cutoffs = tuned["turns"]["cutoffs"] + tuned["jfk"]["cutoffs"]
        synthetic = tuned["synthetic"]["cutoffs"] + tuned["synthetic"]["merges"]
        utterances = tuned["utterances"]
        key = (cutoffs, max(0, synthetic - allowed), utterances["p95_ms"], utterances["p50_ms"])
        safety = -(setting["wait_model_s"] + setting["wait_agree_s"] + interval)
        results.append((*key, safety, setting, interval))
    results.sort(key=lambda r: r[:5])
    print(f"{len(results)} settings; best 10 on the tuning half")
    print("(cut-offs turns+jfk, synthetic excess over rules, utterances p95, p50):")
    for row in results[:10]:
        print(row[:4], row[5], "interval", row[6])
    best = results[0]
    config = dataclasses.replace(TurnConfig(), **best[5])
    print("\nheld-back half with the best setting, per detector:")
    for detector in DETECTORS:
        print(detector, json.dumps(evaluate(traced, detector, config, best[6], half=1)))


if __name__ == "__main__":
    if sys.argv[1] == "trace":
        trace(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sweep(Path(sys.argv[2]))
