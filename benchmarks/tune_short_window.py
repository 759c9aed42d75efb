"""Compare short-window decoding settings on the benchmark corpus's VAD-trimmed utterances.

    python benchmarks/tune_short_window.py [--corpus benchmarks/data] [--variants NAME,...]
    python benchmarks/tune_short_window.py --corpus ../shared/audio/real/utterances \
        --cache /tmp/real.npz --variants pad2_noloop,pad2_loop5,pad2_loop8

Why a separate script: ``voicecli bench`` measures the pipeline as configured; this one answers
"which padding / beam / prompt is best" by decoding the same utterances (cut by the real
pipeline's VAD, fed fast) with each variant, next to ``WhisperModel.transcribe()`` (beam 5,
temperature 0, VAD filter). It prints WER per set, median compute, fallbacks and repeats.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from voicecli.bench.corpus import load_corpus
from voicecli.bench.run import run_baseline, run_utterance
from voicecli.bench.wer import word_errors
from voicecli.core.config import Config
from voicecli.listen.short_window import ShortWindowDecoder, ShortWindowOptions, find_repeat
from voicecli.pipeline.pipeline import Engines

HERE = Path(__file__).resolve().parent
NO_FALLBACK = {"compression_ratio_threshold": 1e9, "log_prob_threshold": -1e9}
VARIANTS = {
    "pad0.5_b1": ShortWindowOptions(pad_s=0.5, beam_size=1),
    "pad1_b1": ShortWindowOptions(pad_s=1.0, beam_size=1),
    "pad1_b1_nofb": ShortWindowOptions(pad_s=1.0, beam_size=1, **NO_FALLBACK),
    "pad2_b1": ShortWindowOptions(pad_s=2.0, beam_size=1),
    "pad1_b3": ShortWindowOptions(pad_s=1.0, beam_size=3),
    "pad1_b3_nofb": ShortWindowOptions(pad_s=1.0, beam_size=3, **NO_FALLBACK),
    "pad1_b1_retry5": ShortWindowOptions(pad_s=1.0, beam_size=1, retry_beam_size=5),
    "pad2_b1_retry5": ShortWindowOptions(pad_s=2.0, beam_size=1, retry_beam_size=5),
    "pad1_b1_nots": ShortWindowOptions(pad_s=1.0, beam_size=1, timestamps=False),
    "pad1.5_b1_retry5": ShortWindowOptions(pad_s=1.5, beam_size=1, retry_beam_size=5),
    # a decode that reads in circles redone with more padding (off by default: latency)
    "pad2_noloop": ShortWindowOptions(loop_pad_s=None),
    "pad2_loop5": ShortWindowOptions(loop_pad_s=5.0),
    "pad2_loop8": ShortWindowOptions(loop_pad_s=8.0),
    "pad2_loop12": ShortWindowOptions(loop_pad_s=12.0),
    "pad4_noloop": ShortWindowOptions(pad_s=4.0, loop_pad_s=None),
    "pad10_noloop": ShortWindowOptions(pad_s=10.0, loop_pad_s=None),
}


def collect(engines: Engines, corpus: Path, cache: Path) -> list[tuple[str, str, list]]:
    """(set, reference, [VAD-trimmed utterance audio]) per corpus file, cached in ``cache``."""
    if cache.is_file():
        data = np.load(cache, allow_pickle=True)
        return list(data["items"])
    items = []
    for item in load_corpus(corpus):
        run = run_utterance(engines, Config(), item, realtime=False)
        items.append(
            (item.set, item.reference, [t.audio for t in run.turns if t.audio is not None])
        )
    np.savez(cache, items=np.array(items, dtype=object))
    return items


def evaluate(name, transcribe, items) -> None:
    errors, words, computes, fallbacks, repeats = {}, {}, [], {}, 0
    for set_name, reference, audios in items:
        texts = []
        for audio in audios:
            start = time.perf_counter()
            text, reason = transcribe(audio)
            computes.append((time.perf_counter() - start) * 1000)
            if reason:
                fallbacks[reason] = fallbacks.get(reason, 0) + 1
            texts.append(text)
        hypothesis = " ".join(texts)
        repeats += find_repeat(hypothesis.split()) is not None
        counted = word_errors(reference, hypothesis)
        errors[set_name] = errors.get(set_name, 0) + counted.errors
        words[set_name] = words.get(set_name, 0) + counted.words
    wers = "  ".join(f"{s}={100 * errors[s] / words[s]:5.1f}%" for s in sorted(errors))
    print(
        f"{name:14s} {wers}  compute p50={statistics.median(computes):6.0f} ms"
        f"  fallbacks={sum(fallbacks.values())}/{len(computes)} {fallbacks}  repeats={repeats}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "data")
    parser.add_argument("--cache", type=Path, default=HERE / "data" / "utterances.npz")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    engines = Engines.load(Config())
    items = collect(engines, args.corpus, args.cache)
    print(f"{len(items)} files, {sum(len(a) for _, _, a in items)} utterances", flush=True)
    model = engines.stt.model
    if not args.no_baseline:

        def baseline(audio):
            return run_baseline(engines.stt, audio).text, None

        evaluate("transcribe()", baseline, items)
    for name in args.variants.split(","):
        decoder = ShortWindowDecoder(model, VARIANTS[name])

        def short(audio, decoder=decoder):
            decoded = decoder.decode(audio)
            return decoded.text, decoded.reason if decoded.fallback else None

        evaluate(name, short, items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
