"""Regenerate the bundled demo conversation: ``python -m voicecli.bench.make_demo``."""

from importlib import resources
from pathlib import Path

from voicecli.audio.file import to_int16
from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.reply.synth import compose

DEMO_SCRIPT = (
    0.5,
    "What is twelve times eight?",
    1.5,
    "What time is it?",
    1.5,
    "What did I just ask?",
    1.0,
)


def main() -> None:
    import soundfile as sf

    audio = compose(*DEMO_SCRIPT)
    path = Path(str(resources.files("voicecli.data").joinpath("demo.flac")))  # the bundled one
    sf.write(str(path), to_int16(audio), SAMPLE_RATE, format="FLAC")
    print(f"wrote {path} ({len(audio) / SAMPLE_RATE:.1f} s)")


if __name__ == "__main__":
    main()
