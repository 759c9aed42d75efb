"""Generate the STT benchmark corpus into benchmarks/data/ (gitignored: audio is not committed).

    python benchmarks/make_corpus.py [--out benchmarks/data] [--shared ../shared/audio]

Writes, as 16 kHz mono 16-bit WAV files each with a ``.txt`` reference:
- ``clean/``: 60 things people say to an assistant, each spoken twice by espeak-ng with a
  different voice and speed (6 voices, 140/160/180 words per minute): 120 utterances, with
  0.3 s of silence before and after;
- ``noisy/``: the same 120 with white noise 10 dB below the speech power (fixed seed);
- ``piper/``: the 60 phrases spoken once each by the Piper voice (joe, no noise: the same
  samples every run; 140/160/180 words per minute in turn), a natural voice beside the robotic
  one (skipped with a note where Piper cannot load);
- ``real/``: the real recordings in ../shared/audio (jfk.flac, and each channel of the stereo
  file as its own utterance with its own reference from shared/audio/README.md).

Then: ``voicecli bench --corpus benchmarks/data --baseline --report report.json``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from voicecli.audio.file import load_audio, resample, write_wav
from voicecli.bench.corpus import add_white_noise
from voicecli.core.audio_format import SAMPLE_RATE

HERE = Path(__file__).resolve().parent
SNR_DB = 10.0
SEED = 20240611
PIPER_VOICE = "piper:joe"
VOICES = ("en-us", "en-us+f3", "en", "en-gb-x-rp", "en-us+m3", "en-us+f2")
SPEEDS = (140, 160, 180)
PHRASES = (
    "What's the weather like in Paris tomorrow?",
    "Set a timer for ten minutes.",
    "What time is it in Tokyo?",
    "Remind me to call my mother at six o'clock.",
    "Turn off the lights in the kitchen.",
    "Play some relaxing music.",
    "How many ounces are in a pound?",
    "What is twenty seven times fourteen?",
    "Add milk and eggs to my shopping list.",
    "Wake me up at seven thirty tomorrow morning.",
    "How far is it from London to Edinburgh?",
    "What's on my calendar for Friday?",
    "Send a message to Sarah saying I'm running late.",
    "Who wrote Pride and Prejudice?",
    "Cancel my alarm.",
    "Convert fifty miles to kilometers.",
    "How long should I boil an egg?",
    "Tell me a joke.",
    "What is the capital of Australia?",
    "Turn the volume down a little.",
    "Is it going to rain this afternoon?",
    "Call the nearest pharmacy.",
    "How do you spell necessary?",
    "What's the square root of one hundred forty four?",
    "Start a stopwatch.",
    "Read me the latest news headlines.",
    "Pause the music.",
    "What's the temperature inside the house?",
    "Set the thermostat to twenty one degrees.",
    "How many days until Christmas?",
    "Translate good morning into Spanish.",
    "What does the word ephemeral mean?",
    "Open the garage door.",
    "Skip to the next song.",
    "How much time is left on my timer?",
    "Schedule a meeting with the design team on Monday at ten.",
    "What's the exchange rate between dollars and euros?",
    "Find a recipe for banana bread.",
    "Lock the front door.",
    "How tall is Mount Everest?",
    "What's the score of the football game?",
    "Remind me to water the plants every Sunday.",
    "Dim the living room lights to thirty percent.",
    "What year did the first moon landing happen?",
    "Give me directions to the train station.",
    "How many calories are in an apple?",
    "Turn on the fan in the bedroom.",
    "Repeat that please.",
    "What's my battery level?",
    "Stop.",
    "Thank you, that's all for now.",
    "Can you recommend a good book?",
    "What is the speed of light?",
    "Order a large pizza with mushrooms.",
    "How do I reset my password?",
    "Check the status of my package.",
    "What's the traffic like on the way to work?",
    "Set a reminder for the dentist appointment next Tuesday.",
    "Who won the World Cup in two thousand eighteen?",
    "Make the screen brighter.",
)
STEREO_REFERENCES = (
    "He began a confused complaint against the wizard, "
    "who had vanished behind the curtain on the left.",
    "The horizon seems extremely distant.",
)
JFK_REFERENCE = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def espeak(text: str, voice: str, speed: int, tmp: Path) -> np.ndarray:
    """``text`` spoken by the espeak-ng CLI, trimmed of silence, as 16 kHz float32."""
    wav = tmp / "say.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
        check=True,
        capture_output=True,
    )
    import soundfile as sf

    pcm, rate = sf.read(str(wav), dtype="float32")
    voiced = np.flatnonzero(np.abs(pcm) > 0.01)
    pcm = pcm[voiced[0] : voiced[-1] + 1]
    return resample(pcm, rate, SAMPLE_RATE)


def renditions():
    """(index, phrase, voice, speed): every phrase twice, with different voices and speeds."""
    number = 0
    for i, phrase in enumerate(PHRASES):
        for shift in (0, 3):
            number += 1
            yield number, phrase, VOICES[(i + shift) % len(VOICES)], SPEEDS[(i + shift // 3) % 3]


def write_item(folder: Path, stem: str, audio: np.ndarray, reference: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / f"{stem}.wav", audio, SAMPLE_RATE)
    (folder / f"{stem}.txt").write_text(reference + "\n", encoding="utf-8")


def make_synthetic(out: Path) -> int:
    rng = np.random.default_rng(SEED)
    pad = np.zeros(round(0.3 * SAMPLE_RATE), np.float32)
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for number, phrase, voice, speed in renditions():
            speech = np.concatenate([pad, espeak(phrase, voice, speed, Path(tmp)), pad])
            stem = f"u{number:03d}_{voice.replace('+', '-')}_{speed}"
            write_item(out / "clean", stem, speech, phrase)
            write_item(out / "noisy", stem, add_white_noise(speech, SNR_DB, rng), phrase)
            count += 1
    return count


def make_piper(out: Path) -> int:
    from voicecli.reply.synth import speak
    from voicecli.reply.tts import TtsUnavailable

    pad = np.zeros(round(0.3 * SAMPLE_RATE), np.float32)
    try:
        for i, phrase in enumerate(PHRASES):
            speed = SPEEDS[i % len(SPEEDS)]
            speech = np.concatenate([pad, speak(phrase, PIPER_VOICE, speed), pad])
            write_item(out / "piper", f"p{i + 1:03d}_joe_{speed}", speech, phrase)
    except TtsUnavailable as exc:
        print(f"make_corpus: no piper/ folder: {exc}", file=sys.stderr)
        return 0
    return len(PHRASES)


def make_real(out: Path, shared: Path) -> None:
    import soundfile as sf

    write_item(out / "real", "jfk", load_audio(shared / "jfk.flac"), JFK_REFERENCE)
    stereo, rate = sf.read(str(shared / "stereo_16k_5s.wav"), dtype="float32", always_2d=True)
    for channel, (side, reference) in enumerate(
        zip(("left", "right"), STEREO_REFERENCES, strict=True)
    ):
        audio = resample(stereo[:, channel], rate, SAMPLE_RATE)
        write_item(out / "real", f"stereo_{side}", audio, reference)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "data")
    parser.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared" / "audio")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("make_corpus: espeak-ng not found (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    for sub in ("clean", "noisy", "piper", "real"):
        shutil.rmtree(args.out / sub, ignore_errors=True)
    count = make_synthetic(args.out)
    piper = make_piper(args.out)
    if (args.shared / "jfk.flac").is_file():
        make_real(args.out, args.shared)
    else:
        print(f"make_corpus: {args.shared} not found: no real speech", file=sys.stderr)
    print(
        f"wrote {count} clean + {count} noisy espeak-ng utterances, {piper} Piper utterances "
        f"and the real recordings to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
