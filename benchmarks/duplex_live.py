"""Full duplex on the virtual devices: false interruptions, barge-in detection, stop time, CPU.

Why live: barge-in depends on the whole chain (PortAudio, PulseAudio's loopback with its
latency, the canceller converging, the guard, the listener, the decision), which the offline
mixes (echo_offline.py) do not run. A private PulseAudio daemon (tests/support/pulse.py) with
``module-loopback`` sends every reply back into the microphone; the user's voice is played
6 dB below the reply's level. Barge-in is left to its default (on: the canceller loads).

* false interruptions: SHORT short replies ("What time is it?"), counted as ``barge_in``
  events and ``playback`` paused; CPU of the whole process per wall second, against the same
  replies with ``--no-barge-in`` (the gate, no canceller) in the same run;
* questions over the reply, per voice family (real recordings from shared/audio/real; Piper
  joe): each is played 2.5 s into the long fallback reply; detected = playback paused, and the
  outcome; stop ms = capture of the deciding audio to the speaker's silence; decide ms; WER of
  the turn against the reference (and the same question asked with nothing playing); later
  pauses: playback paused again in the trial after the question's barge-in, though the user
  spoke once (the answer, or the resumed reply, paused by its own echo).

Run: ``python benchmarks/duplex_live.py [--questions 20] [--out benchmarks/DUPLEX.md]
[--old-model]`` (``--old-model``: barge-in with the old echo guard, the WebRTC module not used).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.pulse import LiveRun, PulseDaemon, reinitialise_sounddevice  # noqa: E402

from voicecli.audio.file import load_audio, resample, write_wav  # noqa: E402
from voicecli.bench.corpus import DEFAULT_PHRASES, LLM_PHRASES  # noqa: E402
from voicecli.bench.wer import WordErrors, word_errors  # noqa: E402
from voicecli.core.audio_format import SAMPLE_RATE, TTS_RATE  # noqa: E402
from voicecli.core.config import Config, TtsConfig  # noqa: E402
from voicecli.core.messages import KEY, Interrupt  # noqa: E402
from voicecli.pipeline.pipeline import Engines  # noqa: E402
from voicecli.reply.synth import compose  # noqa: E402
from voicecli.reply.tts import TextToSpeech  # noqa: E402

SHARED = Path(
    os.environ.get("VOICECLI_SHARED_AUDIO") or Path(__file__).resolve().parents[2] / "shared/audio"
)
REAL = SHARED / "real" / "utterances"
EXTRA = (
    "How do I boil an egg?",
    "What day is it today?",
    "How many ounces are in a pound?",
    "What is the square root of eighty one?",
    "Can you spell necessary?",
)
USER_DB = -6.0  # the user's voice relative to the reply's echo
QUESTION_AT_S = 2.5  # into the long reply: the canceller has settled


def active_rms(x: np.ndarray) -> float:
    blocks = x[: len(x) - len(x) % 160].reshape(-1, 160)
    power = np.mean(blocks**2, axis=1)
    loud = power[power > 0.01 * power.max()]
    return float(np.sqrt(np.mean(loud))) if len(loud) else 0.0


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Voices:
    def __init__(self, folder: Path, count: int) -> None:
        self.folder = folder
        reply = compose("Sorry, I can't help with that yet.")
        self.level = active_rms(reply) * 10 ** (USER_DB / 20)
        self.count = count

    def wav(self, name: str, audio: np.ndarray) -> Path:
        path = self.folder / f"{name}.wav"
        audio = audio * (self.level / max(active_rms(audio), 1e-9))
        pad = np.zeros(SAMPLE_RATE // 5, np.float32)
        write_wav(path, np.concatenate((pad, audio, pad * 2.5)).astype(np.float32), SAMPLE_RATE)
        return path

    def real(self) -> list[tuple[str, Path]]:
        truth = json.loads((REAL / "truth.json").read_text())
        names = [n for n, v in truth.items() if v["seconds"] >= 1.0 and v["kind"] != "word"]
        return [
            (truth[n]["text"], self.wav(Path(n).stem, load_audio(REAL / n)))
            for n in names[: self.count]
        ]

    def piper(self) -> list[tuple[str, Path]]:
        tts = TextToSpeech(TtsConfig(voice="piper:joe"), deterministic=True)
        assert tts.engine == "piper", tts.fallback
        phrases = list(dict.fromkeys((*DEFAULT_PHRASES, *LLM_PHRASES, *EXTRA)))[: self.count]
        out = []
        for i, text in enumerate(phrases):
            pcm = tts.synthesize(text).astype(np.float32) / 32768.0
            out.append((text, self.wav(f"piper_{i}", resample(pcm, TTS_RATE, SAMPLE_RATE))))
        return out


def short_replies(engines, pulse, question: Path, n: int, barge_in) -> dict:
    with LiveRun(engines, pulse, barge_in=barge_in) as run:
        wall, cpu = time.monotonic(), cpu_s()
        for turn in range(1, n + 1):
            run.say(question).wait(10)
            run.wait_for(
                lambda e, t=turn: e.type == "playback" and e.turn == t and e.state != "started", 30
            )
            run.settle(0.8)
        cost = (cpu_s() - cpu) / (time.monotonic() - wall)
    turns = run.of_type("transcript", final=True)
    return {
        "replies": n,
        "turns": len(turns),
        "self_heard": sum("pm" in t.text.lower() or " am" in t.text.lower() for t in turns),
        "barge_ins": len(run.of_type("barge_in")),
        "paused": len(run.of_type("playback", state="paused")),
        "cpu": cost,
    }


def over_the_reply(engines, pulse, story: Path, questions, barge_in=None) -> dict:
    rows = []
    with LiveRun(engines, pulse, barge_in=barge_in) as run:
        for text, wav in questions:
            run.drain()
            start = len(run.events)
            asked = time.monotonic()
            run.say(story).wait(10)
            began = run.wait_for(
                lambda e, t=asked: e.type == "playback" and e.state == "started" and e.wall > t, 20
            )
            time.sleep(QUESTION_AT_S)
            canceller, guard = run.audio.canceller, run.audio.guard
            armed = canceller.settled() if canceller else guard.delay is not None
            asked = time.monotonic()
            run.say(wav).wait(10)
            run.wait_for(lambda e, t=asked: e.type == "barge_in" and e.wall > t, 8)
            run.settle(3.0)
            run.pipeline.interrupt(Interrupt(KEY))  # whatever still plays: the next trial
            run.settle(1.5)
            new = run.events[start:]
            barge = [e for e in new if e.type == "barge_in"]
            said = [e.text for e in new if e.type == "transcript" and e.final][1:]
            pauses = [e for e in new if e.type == "playback" and e.state == "paused"]
            rows.append(
                {
                    "text": text,
                    "armed": armed,
                    "started": began is not None,
                    "paused": any(e.type == "playback" and e.state == "paused" for e in new),
                    "outcome": barge[0].outcome if barge else None,
                    "stop_ms": barge[0].stop_ms if barge else None,
                    "decide_ms": barge[0].decide_ms if barge else None,
                    "heard": said[0] if said else "",
                    "later": said[1:],  # a question cut in two, or the answer heard as a turn
                    # the answer (or the resumed reply) paused by its own echo: the user spoke once
                    "self_paused": max(0, len(pauses) - 1),
                }
            )
            print(rows[-1], flush=True)
    return {"rows": rows}


def in_silence(engines, questions) -> WordErrors:
    errors = WordErrors(0, 0)
    for text, wav in questions:
        errors += word_errors(text, engines.stt.transcribe(load_audio(wav)).text)
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "DUPLEX.md")
    parser.add_argument(
        "--old-model",
        action="store_true",
        help="barge-in with the old echo guard (no WebRTC module) instead of the default",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="voicecli-duplex-"))
    pulse = PulseDaemon(folder / "pulse").start()
    os.environ["XDG_RUNTIME_DIR"] = str(pulse.run_dir)
    os.environ["PULSE_SERVER"] = pulse.env["PULSE_SERVER"]
    reinitialise_sounddevice()
    try:
        config = Config()
        config.tts.voice = "gmw/en-us"
        engines = Engines.load(config)
        voices = Voices(folder, args.questions)
        families = {"real": voices.real(), "piper": voices.piper()}
        story = voices.wav("story", compose("Tell me a story."))
        time_q = voices.wav("time", compose("What time is it?"))
        pulse.loopback()
        duplex = True if args.old_model else None  # True without --echo-cancel: the old model
        results = {
            "gate": short_replies(engines, pulse, time_q, args.replies, False),
            "duplex": short_replies(engines, pulse, time_q, args.replies, duplex),
        }
        for family, qs in families.items():
            results[family] = over_the_reply(engines, pulse, story, qs, duplex)
            results[family]["silence"] = in_silence(engines, qs)
        write(args.out, results, families, args.old_model)
    finally:
        pulse.stop()


def write(out: Path, results: dict, families: dict, old_model: bool = False) -> None:
    gate, duplex = results["gate"], results["duplex"]
    lines = [
        "# Full duplex, live on the virtual devices (`benchmarks/duplex_live.py`)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')} (load average {os.getloadavg()[1]:.1f} over "
        "the last 5 minutes). module-loopback (60 ms), the user 6 dB below the reply's echo.",
        "",
        "| short replies | replies | turns heard | reply self-transcribed | barge_in | paused "
        "| process CPU % of a core |",
        "|---|---|---|---|---|---|---|",
    ]
    variant = "old echo model (--barge-in, no module)" if old_model else "duplex (default)"
    for name, r in (("gate (--no-barge-in)", gate), (variant, duplex)):
        lines.append(
            f"| {name} | {r['replies']} | {r['turns']} | {r['self_heard']} | {r['barge_ins']} "
            f"| {r['paused']} | {100 * r['cpu']:.1f} |"
        )
    lines += [
        "",
        "| questions over the reply | detected (paused) | interrupted | resumed/ignored "
        "| stop ms median (max) | decide ms median | WER over the reply (in silence) "
        "| later pauses (self) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for family in families:
        rows = results[family]["rows"]
        stops = [r["stop_ms"] for r in rows if r["stop_ms"] is not None]
        decides = [r["decide_ms"] for r in rows if r["decide_ms"] is not None]
        errors = WordErrors(0, 0)
        for r in rows:
            errors += word_errors(r["text"], r["heard"])
        silence = results[family]["silence"]
        med = f"{statistics.median(stops):.0f} ({max(stops):.0f})" if stops else "-"
        lines.append(
            f"| {family} | {sum(r['paused'] for r in rows)}/{len(rows)} "
            f"| {sum(r['outcome'] == 'interrupted' for r in rows)} "
            f"| {sum(r['outcome'] in ('resumed', 'ignored') for r in rows)} | {med} "
            f"| {statistics.median(decides):.0f} | {100 * errors.rate:.0f} % "
            f"({100 * silence.rate:.0f} %) | {sum(r['self_paused'] for r in rows)} |"
            if decides
            else f"| {family} | 0/{len(rows)} | - | - | - | - | - | - |"
        )
    lines.append("")
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
