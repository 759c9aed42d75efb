"""``voicecli say TEXT [-o out.wav]``: speak text with the configured voice.

Why both: the speakers are for listening, the file for scripts and tests. ``-o`` always writes
the file (mono 16-bit WAV at 22050 Hz); without speakers (no PortAudio, no device) the file is
still written and a note says the speakers were unavailable. With neither, exit 4.
"""

from __future__ import annotations

import numpy as np
import typer

from voicecli.cli import options
from voicecli.cli.app import app, handle_errors
from voicecli.core.errors import AudioDeviceError, UsageError

BLOCK_S = 0.1  # playback is written in blocks this long, so Ctrl-C is honoured


def play(pcm: np.ndarray, rate: int, spec: str | None) -> None:
    """Play int16 mono ``pcm`` on a speaker (blocking, no callback thread)."""
    from voicecli.audio import devices as audio_devices
    from voicecli.audio.file import resample

    device = audio_devices.pick(spec, "output")
    sd = audio_devices.sounddevice()
    audio = resample(pcm.astype(np.float32) / 32768.0, rate, device.rate)
    block = int(BLOCK_S * device.rate)
    try:
        with sd.OutputStream(
            samplerate=device.rate, channels=1, dtype="float32", device=device.index
        ) as stream:
            for start in range(0, len(audio), block):
                stream.write(audio[start : start + block])
    except sd.PortAudioError as exc:
        raise audio_devices.open_error(device, "output", exc) from None


def write_wav(path: str, pcm: np.ndarray, rate: int) -> None:
    import soundfile as sf

    try:
        sf.write(path, pcm, rate, subtype="PCM_16", format="WAV")
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise UsageError(f"cannot write {path}: {exc}") from None


@app.command()
@handle_errors
def say(
    text: str = typer.Argument(..., help="What to say."),
    output: str | None = typer.Option(None, "--output", "-o", help="Also write a WAV file."),
    voice: options.Voice = None,
    rate: options.Rate = None,
    device: str | None = typer.Option(None, "--device", help="Speaker: index or part of a name."),
) -> None:
    """Speak TEXT on the speakers, and/or into a WAV file with -o."""
    from voicecli.cli.assistant import check_tts_settings
    from voicecli.core.audio_format import TTS_RATE
    from voicecli.core.config import load_config
    from voicecli.reply.tts import TextToSpeech

    if not text.strip():
        raise UsageError("nothing to say: TEXT is empty")
    loaded = load_config({"tts.voice": voice, "tts.rate": rate})
    check_tts_settings(loaded.config.tts)
    pcm = TextToSpeech(loaded.config.tts).synthesize(text)
    if output:
        write_wav(output, pcm, TTS_RATE)
    try:
        play(pcm, TTS_RATE, device)
    except AudioDeviceError as exc:
        if not output:
            raise AudioDeviceError(exc.message, hint="write a WAV file with -o FILE") from None
        typer.echo(f"voicecli: speakers unavailable ({exc.message}); wrote {output}", err=True)
