"""Would WebRTC noise suppression in front of the wake-word model help? (docs/wake.md)

Why: the neural positives the models miss are the noisy ones (okay_nabu in the kitchen
recording, hey_mycroft with the hens: 10 dB SNR), and the module that cancels the echo also
suppresses noise. Each variant runs the clips of ``voicecli bench --wake`` -- the neural
positives (clean and with every real noise at 10 dB) and every distinct negative clip (real
speech, real noise, generated sentences, near misses) -- through ``livekit``'s audio
processing module (10 ms pieces, nothing played) and then the wake-word model at its shipped
cutoff, fed as the asleep listener feeds it. Reported: positives detected, negative clips
accepted (and which), and the module's thread CPU per second of audio.

Run: ``python benchmarks/wake_noise_suppression.py [--words okay_nabu,alexa]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from livekit.rtc import AudioFrame, AudioProcessingModule

from voicecli.bench import wake_corpus
from voicecli.bench.wake_bench import _feed
from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.config import WakeConfig
from voicecli.listen.wake import WAKE_WORDS, WakeDetector, cutoff

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VOICECLI_SHARED_AUDIO") or ROOT.parent / "shared" / "audio")
PIECE = SAMPLE_RATE // 100
VARIANTS = {
    "none": None,
    "NS": {"noise_suppression": True},
    "NS + HPF": {"noise_suppression": True, "high_pass_filter": True},
    "NS + AGC": {"noise_suppression": True, "auto_gain_control": True},
    "AGC": {"auto_gain_control": True},
}


def processed(audio: np.ndarray, settings: dict) -> tuple[np.ndarray, float]:
    """``audio`` through a fresh module, and the module's thread CPU seconds."""
    module = AudioProcessingModule(**settings)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    pcm = np.pad(pcm, (0, -len(pcm) % PIECE))
    out = np.empty_like(pcm)
    start = time.thread_time()
    for index in range(0, len(pcm), PIECE):
        frame = AudioFrame(pcm[index : index + PIECE].tobytes(), SAMPLE_RATE, 1, PIECE)
        module.process_stream(frame)  # in place
        out[index : index + PIECE] = np.frombuffer(frame.data, dtype=np.int16)
    return out.astype(np.float32) / 32768.0, time.thread_time() - start


def accepted(clip: wake_corpus.Clip, audio: np.ndarray, word: str, config: WakeConfig) -> bool:
    detector = WakeDetector(word, cutoff(config, word), config.cooldown_s)
    found, _ = _feed(wake_corpus.Clip(clip.name, clip.group, clip.family, audio), detector)
    return bool(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", default=",".join(WAKE_WORDS))
    args = parser.parse_args()
    config = WakeConfig()
    real, noises = wake_corpus.real_negatives(SHARED / "real")
    negatives = real + wake_corpus.generated_negatives()
    families, pending = wake_corpus.voice_families()
    if wake_corpus.NEURAL in pending:
        raise SystemExit("the neural voice (Piper) is not installed: nothing to measure")
    neural = {wake_corpus.NEURAL: families[wake_corpus.NEURAL]}
    print("| wake word | in front | neural positives | negative clips accepted | module CPU |")
    print("|---|---|---|---|---|")
    for word in args.words.split(","):
        positives = wake_corpus.positives(noises, [word], neural)
        for variant, settings in VARIANTS.items():
            cpu_s = audio_s = 0.0
            hits, false = 0, []
            for clip in positives + negatives:
                audio = clip.audio
                if settings is not None:
                    audio, used = processed(audio, settings)
                    cpu_s, audio_s = cpu_s + used, audio_s + len(audio) / SAMPLE_RATE
                if accepted(clip, audio, word, config):
                    if clip.word is not None:
                        hits += 1
                    else:
                        false.append(clip.name)
            cpu = f"{cpu_s / audio_s * 100:.2f} %" if audio_s else "-"
            names = f" ({', '.join(sorted(false))})" if false else ""
            print(
                f"| {word} | {variant} | {hits}/{len(positives)} | "
                f"{len(false)}/{len(negatives)}{names} | {cpu} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
