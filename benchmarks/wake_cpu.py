"""Asleep CPU of the whole ``voicecli chat --plain`` process, with and without a wake word.

    python benchmarks/wake_cpu.py [--seconds 30] [--rounds 3] [--word okay_nabu] [--speaker]

Both variants run on the same private PulseAudio virtual microphone (tests/support/pulse.py),
alternating, in the same run: the baseline is ``voicecli chat --plain`` (VAD on every frame,
STT on whatever it hears), the other adds ``--wake-word`` (only the wake-word model runs while
asleep). Both run with ``--output none`` unless ``--speaker``: then they play on the virtual
speaker, so the echo canceller and barge-in run as they do by default.
Each round starts the process, waits until it has loaded (its main thread, which
loads the models and then only waits, uses under ``--idle`` % for 3 s: on a loaded machine a
fixed wait measured the end of model loading), then reads the process's CPU time (every
thread, psutil) over ``--seconds``; the input is silence, then the kitchen recording
($VOICECLI_SHARED_AUDIO or ../shared/audio, looped) played into the mic: a room nobody talks
to. Reported: median percent of one core per
variant and input.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.pulse import PulseDaemon  # noqa: E402

from voicecli.audio.file import load_audio, write_wav  # noqa: E402

SHARED = Path(os.environ.get("VOICECLI_SHARED_AUDIO") or ROOT.parent / "shared" / "audio")


def _main_thread_s(process: psutil.Process) -> float:
    thread = next(t for t in process.threads() if t.id == process.pid)
    return thread.user_time + thread.system_time


def _wait_loaded(process: psutil.Process, args) -> None:
    """Until the main thread (it loads the models, then only waits) is idle for 3 s."""
    start = time.monotonic()
    time.sleep(args.settle)
    while time.monotonic() - start < 180:
        before = _main_thread_s(process)
        time.sleep(3.0)
        if (_main_thread_s(process) - before) / 3.0 * 100 < args.idle:
            return
    raise RuntimeError("voicecli did not finish loading within 180 s")


def measure(pulse: PulseDaemon, args, word: str | None, noise: Path | None) -> float:
    command = [sys.executable, "-m", "voicecli", "chat", "--plain"]
    if not args.speaker:
        command += ["--output", "none"]
    if word:
        command += ["--wake-word", word]
    proc = subprocess.Popen(
        command, env=pulse.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    player = None
    try:
        _wait_loaded(psutil.Process(proc.pid), args)
        if noise is not None:
            player = pulse.play(noise)
            time.sleep(1.0)
        process = psutil.Process(proc.pid)
        before = process.cpu_times()
        time.sleep(args.seconds)
        after = process.cpu_times()
        used = (after.user - before.user) + (after.system - before.system)
        assert proc.poll() is None, "voicecli ended early"
        return used / args.seconds * 100
    finally:
        if player is not None:
            player.kill()
            player.wait(5)
        proc.send_signal(2)
        proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--idle", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--word", default="okay_nabu")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--speaker",
        action="store_true",
        help="play on the virtual speaker (so the echo canceller runs), not --output none",
    )
    args = parser.parse_args()
    pulse = PulseDaemon(Path(tempfile.mkdtemp(prefix="voicecli-wake-cpu-"))).start()
    try:
        noise = pulse.run_dir / "kitchen.wav"
        audio = load_audio(SHARED / "real" / "noise" / "kitchen.flac")
        loops = int(np.ceil((args.settle + args.seconds + 5) / (len(audio) / 16000)))
        write_wav(noise, np.tile(audio, loops), 16000)
        results: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for input_name, path in (("silence", None), ("kitchen noise", noise)):
                for variant, word in (
                    ("no wake word", None),
                    (f"--wake-word {args.word}", args.word),
                ):
                    key = f"{input_name} | {variant}"
                    results.setdefault(key, []).append(measure(pulse, args, word, path))
                    print(f"{key}: {results[key][-1]:.2f} %", file=sys.stderr)
    finally:
        pulse.stop()
    medians = {key: round(statistics.median(values), 2) for key, values in results.items()}
    if args.json:
        print(json.dumps({"medians": medians, "runs": results}, indent=2))
        return
    print("| input | variant | CPU, % of one core (median) | runs |")
    print("|---|---|---|---|")
    for key, value in medians.items():
        input_name, variant = key.split(" | ")
        runs = ", ".join(f"{v:.2f}" for v in results[key])
        print(f"| {input_name} | {variant} | {value:.2f} | {runs} |")


if __name__ == "__main__":
    main()
