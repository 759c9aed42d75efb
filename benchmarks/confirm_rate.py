"""How often would voicecli ask back? The decoder's confidence on real, noisy and synthetic speech.

    python benchmarks/confirm_rate.py measure [--out benchmarks/results/confirm_rate.json]
    python benchmarks/confirm_rate.py report [--json ...]  # the sweep and the chosen threshold

Why: a spoken turn whose transcript has low confidence (``voicecli.reply.confirm``) is asked
back ("Cancel all timers?") instead of acted on. That must stay rare on clean speech (<= 2 % of
the real recordings), so the threshold is chosen here, from the confidence (average
log-probability, no-speech probability) of every final ``transcript`` event the real pipeline
emits (fed fast, the echo brain answering) for: the real utterances and the real spoken turns
(clean), the same recordings with recorded noise mixed under them at 10 and 5 dB SNR, and a
fixed list of assistant commands spoken by Piper (joe) and espeak-ng. The commands were written
from the skills' help, before any was heard by tiny.en.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from false_transcripts import REAL, mix  # noqa: E402

from voicecli.audio.file import load_audio  # noqa: E402
from voicecli.audio.source import ArraySource  # noqa: E402
from voicecli.bench.wer import normalize  # noqa: E402
from voicecli.core.bus import EventBus  # noqa: E402
from voicecli.core.config import Config, ConfirmConfig  # noqa: E402
from voicecli.pipeline.pipeline import Engines, Pipeline  # noqa: E402
from voicecli.reply.brain import EchoBrain  # noqa: E402
from voicecli.reply.confirm import doubtful  # noqa: E402
from voicecli.reply.synth import silence, speak  # noqa: E402

COMMANDS = (
    "set a timer for five minutes",
    "set a pasta timer for ten minutes",
    "set a timer for ninety seconds",
    "cancel all timers",
    "cancel the pasta timer",
    "remove the tea timer",
    "what timers are running",
    "how much time is left",
    "stop",
    "never mind",
    "what time is it",
    "what is the date today",
    "what day is it tomorrow",
    "what is eight times three",
    "what is twelve plus thirty",
    "how many kilometers are in twenty miles",
    "convert five pounds to kilograms",
    "say that again",
    "how hot is the processor",
    "help",
)
NOISES = ("kitchen", "hens", "sheep", "music_perfect_alley", "stationary_lowfreq")
_CLEAN = ("real/utterances", "real/turns")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "confirm_rate.json"


def transcripts(engines: Engines, audio: np.ndarray) -> list[dict]:
    """Every final transcript's text and confidence, the clip fed fast through a pipeline."""
    bus = EventBus()
    sub = bus.subscribe(100_000, "confirm")
    clip = np.concatenate([silence(0.5), audio, silence(1.5)])
    pipeline = Pipeline(
        config=Config(),
        engines=engines,
        source=ArraySource(clip, realtime=False),
        bus=bus,
        fast=True,
        system_interval_s=None,
        brain=EchoBrain(),
    )
    pipeline.start()
    pipeline.wait(120)
    pipeline.close()
    found = []
    while (event := sub.get(timeout=0)) is not None:
        if event.type == "transcript" and event.final:
            found.append(
                {
                    "text": event.text,
                    "avg_logprob": event.avg_logprob,
                    "no_speech_prob": event.no_speech_prob,
                }
            )
    return found


def clean_sets() -> dict[str, list[tuple[str, np.ndarray]]]:
    sets = {}
    for folder in ("utterances", "turns"):
        files = sorted((REAL / folder).glob("*.flac"))
        sets[f"real/{folder}"] = [(f.name, load_audio(f)) for f in files]
    return sets


def measure(out: Path) -> None:
    config = Config()
    config.tts.voice = "gmw/en-us"
    engines = Engines.load(config)
    clean = clean_sets()
    sets: dict[str, list[tuple[str, np.ndarray]]] = dict(clean)
    noise = {n: load_audio(REAL / "noise" / f"{n}.flac") for n in NOISES}
    speech = [item for items in clean.values() for item in items]
    for snr in (10, 5):
        sets[f"noisy/{snr}dB"] = [
            (f"{name}+{NOISES[i % len(NOISES)]}", mix(audio, noise[NOISES[i % 5]], snr, i * 7919))
            for i, (name, audio) in enumerate(speech)
        ]
    sets["piper/commands"] = [(c, speak(c, "piper:joe")) for c in COMMANDS]
    sets["espeak-ng/commands"] = [(c, speak(c)) for c in COMMANDS]
    results = {}
    for name, items in sets.items():
        start = time.perf_counter()
        results[name] = [{"file": f, "transcripts": transcripts(engines, a)} for f, a in items]
        print(f"{name}: {len(items)} clips, {time.perf_counter() - start:.0f} s", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


def fires(policy: ConfirmConfig, clip: dict) -> bool:
    """Would any final transcript of this clip be doubted?"""
    found = clip["transcripts"]
    return any(doubtful(policy, t["avg_logprob"], t["no_speech_prob"]) for t in found)


def right(clip: dict, truth: dict[str, str]) -> bool | None:
    """Was the clip heard right (normalised words equal the reference)? None: no reference."""
    reference = truth.get(clip["file"].split("+")[0])
    if reference is None:
        return None
    heard = " ".join(t["text"] for t in clip["transcripts"])
    return normalize(heard) == normalize(reference)


def rates(policy: ConfirmConfig, clips: list[dict], truth: dict[str, str]) -> str:
    """ "asked/all (%), wrong asked/wrong": how often it fires, and on how many misheard."""
    count = sum(fires(policy, c) for c in clips)
    cell = f"{count}/{len(clips)} ({100 * count / len(clips):.1f} %)"
    wrong = [c for c in clips if right(c, truth) is False]
    if wrong:
        cell += f", misheard {sum(fires(policy, c) for c in wrong)}/{len(wrong)}"
    return cell


def report(path: Path) -> None:
    results = json.loads(path.read_text())
    labels = json.loads((REAL / "utterances" / "truth.json").read_text())
    truth = {name: label["text"] for name, label in labels.items()}
    truth.update({c: c for c in COMMANDS})
    clean = results["real/utterances"] + results["real/turns"]
    logprobs = [t["avg_logprob"] for c in clean for t in c["transcripts"]]
    print(f"clean real clips: {len(clean)}, transcripts: {len(logprobs)}")
    print(f"avg_logprob median {statistics.median(logprobs):.3f}, min {min(logprobs):.3f}")
    print("\n| set | clips | transcripts | avg_logprob median (min) | no_speech median (max) |")
    print("|---|---|---|---|---|")
    for name, clips in results.items():
        found = [t for c in clips for t in c["transcripts"]]
        lp = [t["avg_logprob"] for t in found]
        ns = [t["no_speech_prob"] for t in found]
        print(
            f"| {name} | {len(clips)} | {len(found)} | {statistics.median(lp):.2f} ({min(lp):.2f})"
            f" | {statistics.median(ns):.2f} ({max(ns):.2f}) |"
        )
    others = " | ".join(name for name in results if name not in _CLEAN)
    print(f"\n| log-prob below | no-speech above | clean real (utterances + turns) | {others} |")
    print("|---|---|---|" + "---|" * (len(results) - 2))
    for log_prob in (-0.8, -0.9, -1.0, -1.05, -1.1, -1.2, -1.5):
        for no_speech in (0.5, 0.6, 0.7, 0.8):
            policy = ConfirmConfig(log_prob_below=log_prob, no_speech_above=no_speech)
            cells = [rates(policy, clean, truth)]
            cells += [rates(policy, c, truth) for n, c in results.items() if n not in _CLEAN]
            print(f"| {log_prob} | {no_speech} | " + " | ".join(cells) + " |")
    policy = ConfirmConfig()
    print(f"\nchosen {policy}:")
    for name, clips in results.items():
        fired = [c for c in clips if fires(policy, c)]
        print(f"- {name}: {rates(policy, clips, truth)}")
        for clip in fired:
            heard = "; ".join(
                f"{t['text']!r} ({t['avg_logprob']:.2f}, {t['no_speech_prob']:.2f})"
                for t in clip["transcripts"]
            )
            print(f"    {clip['file']}: {heard}, right: {right(clip, truth)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("measure", "report"))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args()
    if args.what == "measure":
        measure(args.json)
    else:
        report(args.json)


if __name__ == "__main__":
    main()
