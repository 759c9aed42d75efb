"""TTS benchmark: Piper vs espeak-ng on the 50 replies of benchmarks/tts_replies.txt.

    python benchmarks/tts_bench.py [--limit N] [--threads 1,2] [--json benchmarks/results/tts.json]

Measures, per engine (Piper with 1 and 2 onnxruntime threads, espeak-ng gmw/en-us), in one run:
- first audio: the time to synthesise what the responder speaks first (``first_pieces``: for
  Piper the first phrase, else the first clause of a long first sentence, else the first
  sentence; reply/sentences.py), p50 by reply length; "clause" is the same without the phrase
  cut (the responder before it), measured alternately in the same run;
- stalls: the reply's pieces synthesised one after another while the earlier ones play; a
  stall is a piece not ready when the one before has played (summed per reply); the join
  silence is the silence at a phrase cut after ``close_join``;
- real-time factor: synthesis time / audio duration of whole replies;
- round trip: each reply heard by tiny.en (beam 1), spoken whole and as streamed (the pieces
  joined as the responder joins them), WER with bench's normaliser against the spoken form
  of the reply (Speakable: what TTS was given);
- Piper's cold start (import + load, first synthesis) and RSS, in a fresh process.
Piper runs without noise (deterministic). Prints a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from voicecli.audio.file import resample
from voicecli.bench.wer import corpus_wer
from voicecli.core.clock import SAMPLE_RATE
from voicecli.core.config import Config
from voicecli.listen.stt import SpeechToText
from voicecli.reply.espeak_tts import EspeakEngine
from voicecli.reply.piper_tts import PiperEngine
from voicecli.reply.sentences import cut_mid_phrase, first_pieces, split_sentences
from voicecli.reply.speakable import Speakable
from voicecli.reply.tts import SILENT, TTS_RATE, close_join

HERE = Path(__file__).resolve().parent
RATE = 175  # the default --rate
LENGTHS = (("short (<= 8 words)", 0, 8), ("medium (9-20)", 9, 20), ("long (> 20)", 21, 10**6))

COLD = """
import json, time, psutil
process = psutil.Process()
rss0, t0 = process.memory_info().rss, time.monotonic()
from voicecli.reply.piper_tts import PiperEngine
engine = PiperEngine.load("joe", 1, deterministic=True)
t1, rss1 = time.monotonic(), process.memory_info().rss
engine.synthesize("Hello there.", 175, 22050)
t2, rss2 = time.monotonic(), process.memory_info().rss
print(json.dumps({"load_s": t1 - t0, "first_synth_s": t2 - t1,
                  "rss_loaded_mb": (rss1 - rss0) / 2**20, "rss_after_mb": (rss2 - rss0) / 2**20}))
"""


def load_replies(path: Path) -> list[tuple[str, str]]:
    """(family, reply) pairs; family from the ``# [name]`` markers."""
    family, out = "", []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ["):
            family = line[3:].rstrip("]")
        elif line.strip() and not line.startswith("#"):
            out.append((family, line.strip()))
    return out


def pieces(said: str, phrases: bool) -> list[str]:
    """The pieces the responder synthesises, in order, for a reply said as ``said``."""
    sentences = split_sentences(said)
    return first_pieces(sentences[0], phrases) + sentences[1:]


def joined(speak, parts: list[str]) -> tuple[np.ndarray, list, list, list, list]:
    """The pieces spoken and joined as the responder joins them, each piece's synthesis wall
    time, audio seconds and CPU time, and the silence at each phrase cut (ms)."""
    audio, walls, seconds, cpus, joins = [], [], [], [], []
    for index, part in enumerate(parts):
        after = index > 0 and cut_mid_phrase(parts[index - 1])
        before = index < len(parts) - 1 and cut_mid_phrase(part)
        pcm, wall, cpu = timed(lambda p=part: speak(p))
        pcm = close_join(pcm, start=after, end=before) if after or before else pcm
        if after:
            loud_prev = np.flatnonzero(np.abs(audio[-1]) > SILENT)
            loud = np.flatnonzero(np.abs(pcm) > SILENT)
            joins.append(1000 * (len(audio[-1]) - 1 - loud_prev[-1] + loud[0]) / TTS_RATE)
        audio.append(pcm)
        walls.append(wall)
        cpus.append(cpu)
        seconds.append(len(pcm) / TTS_RATE)
    return np.concatenate(audio), walls, seconds, cpus, joins


def stall_ms(walls: list[float], seconds: list[float]) -> float:
    """Total time the speaker waits for a piece after the first started playing."""
    ready, playing_until, stalled = walls[0], walls[0] + seconds[0], 0.0
    for wall, length in zip(walls[1:], seconds[1:], strict=True):
        ready += wall
        stalled += max(0.0, ready - playing_until)
        playing_until = max(ready, playing_until) + length
    return stalled * 1000


def timed(make) -> tuple[np.ndarray, float, float]:
    """The result, its wall time and this process's CPU time (all threads): on a shared
    machine the CPU time is what the synthesis costs, the wall time what the user waited."""
    start, cpu = time.perf_counter(), time.process_time()
    pcm = make()
    return pcm, time.perf_counter() - start, time.process_time() - cpu


def hear(stt: SpeechToText, pcm: np.ndarray) -> str:
    pause = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    audio = resample(pcm.astype(np.float32) / 32768.0, TTS_RATE, SAMPLE_RATE)
    return stt.transcribe(np.concatenate([pause, audio, pause])).text


def p50(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else 0.0


def measure(
    name: str, speak, replies: list[tuple[str, str]], stt: SpeechToText, phrases: bool
) -> dict:
    """First audio, stalls, RTF and round-trip WER of one engine over every reply."""
    first, first_cpu, clause, clause_cpu, joins = [], [], [], [], []
    stalls, cpu_stalls, clause_stalls = [], [], []
    synth_s, audio_s, pairs, streamed, by_family = 0.0, 0.0, [], [], {}
    for family, reply in replies:
        said = Speakable().convert(reply)
        words = len(said.split())
        _, clause_s, clause_cpu_s = timed(lambda s=said: speak(pieces(s, False)[0]))
        _, first_s, cpu_s = timed(lambda s=said: speak(pieces(s, phrases)[0]))
        pcm, whole_s, _ = timed(lambda s=said: speak(s))
        synth_s += whole_s
        audio_s += len(pcm) / TTS_RATE
        first.append((words, first_s * 1000))
        first_cpu.append((words, cpu_s * 1000))
        clause.append(clause_s * 1000)
        clause_cpu.append(clause_cpu_s * 1000)
        stream, walls, seconds, cpus, cuts = joined(speak, pieces(said, phrases))
        stalls.append(stall_ms(walls, seconds))
        cpu_stalls.append(stall_ms(cpus, seconds))  # as on an idle machine
        joins += cuts
        if phrases:  # the same reply streamed without the phrase cut, for comparison
            clause_stalls.append(stall_ms(*joined(speak, pieces(said, False))[1:3]))
        heard = hear(stt, pcm)
        pairs.append((said, heard))
        streamed.append((said, hear(stt, stream)))
        by_family.setdefault(family, []).append((said, heard))
    result = {
        "engine": name,
        "first_audio_clause_p50_ms": p50(clause),
        "first_audio_clause_cpu_p50_ms": p50(clause_cpu),
        "first_audio_cpu_p50_all_ms": p50([ms for _, ms in first_cpu]),
        "stall_ms": {"p50": p50(stalls), "max": round(max(stalls), 1)},
        "replies_with_stall_over_20ms": sum(ms > 20 for ms in stalls),
        "replies_with_cpu_stall_over_20ms": sum(ms > 20 for ms in cpu_stalls),
        "clause_cut_only": {
            "stall_p50_ms": p50(clause_stalls),
            "stall_max_ms": round(max(clause_stalls, default=0), 1),
            "replies_with_stall_over_20ms": sum(ms > 20 for ms in clause_stalls),
        },
        "join_silence_ms": {"p50": p50(joins), "max": round(max(joins, default=0), 1)},
        "wer_streamed": round(corpus_wer(streamed), 4),
        "misheard_streamed": [(s, h) for s, h in streamed if corpus_wer([(s, h)]) > 0],
        "first_audio_p50_ms": {
            label: round(statistics.median(ms for words, ms in first if lo <= words <= hi), 1)
            for label, lo, hi in LENGTHS
            if any(lo <= words <= hi for words, _ in first)
        },
        "first_audio_p50_all_ms": round(statistics.median(ms for _, ms in first), 1),
        "first_audio_cpu_p50_ms": {
            label: round(statistics.median(ms for words, ms in first_cpu if lo <= words <= hi), 1)
            for label, lo, hi in LENGTHS
            if any(lo <= words <= hi for words, _ in first_cpu)
        },
        "rtf": round(synth_s / audio_s, 3),
        "wer": round(corpus_wer(pairs), 4),
        "wer_by_family": {f: round(corpus_wer(p), 4) for f, p in by_family.items()},
        "misheard": [(s, h) for s, h in pairs if corpus_wer([(s, h)]) > 0],
    }
    brief = {k: v for k, v in result.items() if not k.startswith("misheard")}
    print(f"{name}: {json.dumps(brief)}")
    return result


def table(results: list[dict], cold: dict) -> str:
    labels = [label for label, _, _ in LENGTHS]
    head = "| engine | " + " | ".join(f"first audio p50, {lb}" for lb in labels)
    head += " | all | all, clause cut only | stall p50 / max | join | RTF | WER tiny.en"
    head += " | skills | llm | WER as streamed |"
    rows = [head, "|" + "---|" * (len(labels) + 10)]
    for r in results:
        cells = [
            f"{r['first_audio_p50_ms'].get(lb, '-')} ms "
            f"(CPU {r['first_audio_cpu_p50_ms'].get(lb, '-')} ms)"
            for lb in labels
        ]
        fam = r["wer_by_family"]
        rows.append(
            f"| {r['engine']} | " + " | ".join(cells) + f" | {r['first_audio_p50_all_ms']} ms"
            f" (CPU {r['first_audio_cpu_p50_all_ms']})"
            f" | {r['first_audio_clause_p50_ms']} ms (CPU {r['first_audio_clause_cpu_p50_ms']})"
            f" | {r['stall_ms']['p50']} / {r['stall_ms']['max']} ms"
            f" ({r['replies_with_stall_over_20ms']} replies > 20 ms;"
            f" clause cut only {r['clause_cut_only']['replies_with_stall_over_20ms']};"
            f" by CPU time {r['replies_with_cpu_stall_over_20ms']})"
            f" | {r['join_silence_ms']['p50']} ms"
            f" | {r['rtf']} | {r['wer']:.1%} | {fam.get('skills', 0):.1%}"
            f" | {fam.get('llm', 0):.1%} | {r['wer_streamed']:.1%} |"
        )
    rows.append("")
    rows.append(
        f"Piper cold start (fresh process, 1 thread): import + load {cold['load_s']:.2f} s, "
        f"first synthesis {cold['first_synth_s']:.2f} s; RSS +{cold['rss_loaded_mb']:.0f} MB "
        f"loaded, +{cold['rss_after_mb']:.0f} MB after the first synthesis."
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "tts.json")
    parser.add_argument("--threads", default="1,2", help="Piper thread counts to measure")
    args = parser.parse_args(argv)
    replies = load_replies(HERE / "tts_replies.txt")[: args.limit]
    cold = json.loads(
        subprocess.run(
            [sys.executable, "-c", COLD], capture_output=True, text=True, check=True
        ).stdout
    )
    print(f"cold: {cold}")
    stt = SpeechToText(Config().stt)
    espeak = EspeakEngine()
    load = [os.getloadavg()]  # the machine is shared: say how busy it was
    cpu0 = time.process_time()
    results = [
        measure(
            "espeak-ng gmw/en-us",
            lambda t: espeak.synthesize(t, "gmw/en-us", RATE),
            replies,
            stt,
            phrases=False,
        )
    ]
    for threads in (int(n) for n in args.threads.split(",")):
        piper = PiperEngine.load("joe", threads, deterministic=True)
        piper.synthesize("Hello.", RATE, TTS_RATE)  # warm-up: the first run allocates
        results.append(
            measure(
                f"Piper joe, {threads} thread{'s' * (threads > 1)}",
                lambda t, p=piper: p.synthesize(t, RATE, TTS_RATE),
                replies,
                stt,
                phrases=True,
            )
        )
    load = [round(x, 2) for x in load[0] + os.getloadavg()]  # (1, 5, 15 min) start, end
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"load_avg": load, "cold": cold, "engines": results}, indent=1) + "\n"
    )
    print(table(results, cold))
    print(f"load average (1, 5, 15 min) at the start and the end: {load}; {os.cpu_count()} cores")
    print(f"CPU time of the run: {time.process_time() - cpu0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
