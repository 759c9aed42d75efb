"""Count phantom transcripts: words heard where nobody spoke, voicecli next to transcribe().

    python benchmarks/false_transcripts.py [--noise DIR] [--speech DIR] [--limit N]

Why a script: ``voicecli bench --noise`` counts false transcripts on recorded noise; this one
adds generated silence, steady white noise, and speech with recorded kitchen noise mixed under
it at 5 and 10 dB SNR (with 1 s of the noise alone before and after the speech). Each input is
fed (fast) through the real pipeline; ``WhisperModel.transcribe()`` (beam 5, VAD filter) decodes
the same VAD-cut audio. A turn is a false transcript when it has words and none of them is in
the reference (all of them, for noise with no reference). It also counts real utterances that
came out empty (what the guard might have dropped).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from voicecli.audio.file import load_audio
from voicecli.bench.corpus import CorpusItem, load_corpus, load_noise
from voicecli.bench.run import run_baseline, run_utterance
from voicecli.bench.wer import normalize, word_errors
from voicecli.core.config import Config
from voicecli.pipeline.pipeline import Engines

REAL = (
    Path(
        os.environ.get("VOICECLI_SHARED_AUDIO")
        or Path(__file__).resolve().parents[2] / "shared" / "audio"
    )
    / "real"
)
SR = 16000


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float, offset: int) -> np.ndarray:
    """``speech`` with 1 s of noise either side, the noise ``snr_db`` below the speech power."""
    pad = np.zeros(SR, "f4")
    clean = np.concatenate([pad, speech, pad])
    start = offset % max(1, len(noise) - len(clean))
    bed = np.resize(noise[start:], len(clean)).astype("f4")
    power = float(np.mean(speech**2)) or 1e-8
    bed *= np.sqrt(power / 10 ** (snr_db / 10) / (float(np.mean(bed**2)) or 1e-8))
    mixed = clean + bed
    peak = float(np.max(np.abs(mixed)))
    return (mixed / peak * 0.95 if peak > 0.99 else mixed).astype("f4")


def false_turns(reference: str, texts: list[str]) -> int:
    ref = set(normalize(reference).split())
    return sum(1 for t in texts if (words := normalize(t).split()) and not ref.intersection(words))


def measure(engines: Engines, name: str, items: list[CorpusItem]) -> None:
    counts = {"voicecli": [0, 0, 0], "transcribe()": [0, 0, 0]}  # false, empty, errors
    words, heard = 0, []
    for item in items:
        run = run_utterance(engines, Config(), item, realtime=False)
        texts = [t.text for t in run.turns]
        base = [run_baseline(engines.stt, t.audio).text for t in run.turns if t.audio is not None]
        for label, got in (("voicecli", texts), ("transcribe()", base)):
            counts[label][0] += false_turns(item.reference, got)
            counts[label][1] += bool(item.reference) and not normalize(" ".join(got))
            counts[label][2] += word_errors(item.reference, " ".join(got)).errors
            heard += [f"{label}: {t!r}" for t in got if false_turns(item.reference, [t])]
        words += len(normalize(item.reference).split())
    minutes = sum(i.duration_s for i in items) / 60
    for label, (false, empty, errors) in counts.items():
        wer = f"  WER {100 * errors / words:5.1f} % of {words} words" if words else ""
        print(
            f"{name:28s} {label:13s} false {false:3d} ({false / minutes:5.2f}/min)"
            f"  empty {empty:2d}{wer}",
            flush=True,
        )
    for line in heard[:8]:
        print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--noise", type=Path, default=REAL / "noise")
    parser.add_argument("--speech", type=Path, default=REAL / "utterances")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    engines = Engines.load(Config())
    rng = np.random.default_rng(0)
    measure(engines, "recorded noise", load_noise(args.noise))
    generated = [
        CorpusItem("silence", "generated", "", np.zeros(10 * SR, "f4")),
        CorpusItem("white -50 dBFS", "generated", "", rng.normal(0, 0.0032, 10 * SR).astype("f4")),
        CorpusItem("white -30 dBFS", "generated", "", rng.normal(0, 0.032, 10 * SR).astype("f4")),
    ]
    measure(engines, "generated silence/noise", generated)
    kitchen = load_audio(args.noise / "kitchen.flac")
    speech = load_corpus(args.speech, args.limit)
    for snr in (10, 5):
        mixed = [
            CorpusItem(i.name, i.set, i.reference, mix(i.audio, kitchen, snr, 7919 * n))
            for n, i in enumerate(speech)
        ]
        measure(engines, f"speech + kitchen {snr} dB SNR", mixed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
