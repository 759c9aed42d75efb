"""What the Smart Turn model costs here: wall and CPU ms per score, and how much later the
speculative transcription finishes when the model scores beside it (as the listener does).

Why both: the listener scores the model in its own thread while the STT worker transcribes the
same audio, so on 2 cores the model's cost shows up as extra STT latency only if they fight
for a core. Each real utterance is transcribed alone and then with one score running at the
same time, alternately, in the same run.

    python benchmarks/turn_model_cost.py ../shared/audio/real/utterances
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

from voicecli.bench.turn_corpus import load_turn_corpus
from voicecli.core.config import Config
from voicecli.listen.stt import SpeechToText
from voicecli.listen.turn_model import TurnModel


def main(folder: Path, count: int = 20) -> None:
    model = TurnModel.load()
    stt = SpeechToText(Config().stt)
    items = load_turn_corpus(folder)[:count]
    wall, cpu, alone, beside = [], [], [], []
    for item in items:
        audio = item.audio[: -16000 * 2]  # keep ~1 s of the trailing silence
        start_cpu = time.thread_time()
        wall.append(model.score(audio).compute_ms)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        start = time.perf_counter()
        stt.transcribe(audio)
        alone.append((time.perf_counter() - start) * 1000)
        scorer = threading.Thread(target=model.score, args=(audio,))
        start = time.perf_counter()
        scorer.start()
        stt.transcribe(audio)
        beside.append((time.perf_counter() - start) * 1000)
        scorer.join()
    med = statistics.median
    print(f"{len(items)} real utterances, 1 onnxruntime thread")
    print(f"model score: wall p50 {med(wall):.0f} ms, CPU p50 {med(cpu):.0f} ms")
    print(f"STT alone p50 {med(alone):.0f} ms; with a score beside it p50 {med(beside):.0f} ms")
    extra = [b - a for a, b in zip(alone, beside, strict=True)]
    print(f"extra STT latency p50 {med(extra):.0f} ms (ratio {med(beside) / med(alone):.2f})")
    print(f"  per item: {np.round(extra).astype(int).tolist()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
