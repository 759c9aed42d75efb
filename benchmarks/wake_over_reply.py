"""The wake word said over a reply, through the echo canceller, offline (docs/wake.md).

Why offline: the canceller's suppressor chops the user's voice while both talk, the more the
louder the echo; how much that costs the wake word is a property of the audio, measured here
deterministically. Each of the 4 wake words, said by the neural voice at the corpus's 3 rates,
starts 3 s into a Piper reply; the microphone hears the reply's echo 40 ms late at the given
level relative to the voice ("none": headphones), plus a -65 dBFS hiss. Every frame goes
through ``EchoCanceller`` (noise suppression on, as in ``chat``) and then the wake-word model at
its shipped cutoff; a clip counts when the model fires from the word's start on.

Run: ``python benchmarks/wake_over_reply.py``.
"""

from __future__ import annotations

import numpy as np

from voicecli.audio.echo_canceller import EchoCanceller
from voicecli.bench.echo_mix import REPLIES, active_rms
from voicecli.bench.wake_corpus import NEURAL_VOICES, RATES, WAKE_WORDS
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.config import WakeConfig
from voicecli.listen.wake import WakeDetector, cutoff
from voicecli.reply.synth import speak

ECHO_DB = (None, -20.0, -12.0, -6.0)  # echo relative to the voice; None: no echo
DELAY = SAMPLE_RATE * 40 // 1000
AT = 3 * SAMPLE_RATE


def heard(word: str, said: np.ndarray, reply: np.ndarray, echo_db: float | None) -> bool:
    rng = np.random.default_rng(0)
    mic = (rng.standard_normal(len(reply)) * 10 ** (-65 / 20)).astype(np.float32)
    voice = said * (10 ** (-30 / 20) / active_rms(said))
    mic[AT : AT + len(voice)] += voice
    if echo_db is not None:
        echo = np.concatenate((np.zeros(DELAY, np.float32), reply[:-DELAY]))
        mic += echo * (10 ** ((-30 + echo_db) / 20) / active_rms(reply))
    canceller = EchoCanceller(noise_suppression=True)
    detector = WakeDetector(word, cutoff(WakeConfig(), word))
    try:
        for i in range(0, AT + len(voice) + SAMPLE_RATE, FRAME):
            canceller.reverse(reply[i : i + FRAME])
            if detector.feed(canceller.process(mic[i : i + FRAME])) and i >= AT - FRAME:
                return True
        return False
    finally:
        detector.close()


def main() -> None:
    reply = np.tile(speak(REPLIES[0], NEURAL_VOICES[0]), 2)
    clips = [
        (word, speak(phrase, NEURAL_VOICES[0], rate))
        for word, phrase in WAKE_WORDS.items()
        for rate in RATES
    ]
    print("| echo at the microphone, relative to the voice | wake word heard over the reply |")
    print("|---|---|")
    for echo_db in ECHO_DB:
        hits = sum(heard(word, said, reply, echo_db) for word, said in clips)
        level = "none (headphones)" if echo_db is None else f"{echo_db:+.0f} dB"
        print(f"| {level} | {hits}/{len(clips)} |", flush=True)


if __name__ == "__main__":
    main()
