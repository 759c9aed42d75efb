"""``voicecli doctor``: what this machine has for voicecli, and how to fix what is missing.

Each check prints found/missing with the fix (the turn model is optional: without it, one line
says turns use the transcript rules alone). The exit code is 0 when the offline default
(file in, file out) works, 5 when the default model is missing, 6 when speech synthesis cannot
start; PortAudio and audio devices are only needed for the microphone and speakers.
"""

from __future__ import annotations

import typer

from voicecli.cli.app import app, handle_errors
from voicecli.core.errors import ExitStatus


def _check_model() -> tuple[bool, str]:
    from voicecli.core import catalogue

    entry = catalogue.default("stt")
    location = entry.location()
    if location is None:
        return False, f"STT model {entry.id}: missing -- {entry.install}"
    return True, f"STT model {entry.id}: found at {location}"


def _check_turn_model() -> tuple[bool, str]:
    """Optional: without it turns are decided by the transcript rules alone."""
    from voicecli.core import catalogue

    entry = catalogue.default("turn")
    location = entry.location()
    if location is None:
        return (
            False,
            f"turn model {entry.id}: missing, turns use the rules alone -- {entry.install}",
        )
    return True, f"turn model {entry.id}: found at {location}"


def _check_espeak() -> tuple[bool, str]:
    from voicecli.core.config import TtsConfig
    from voicecli.reply.tts import TextToSpeech, TtsUnavailable

    try:
        tts = TextToSpeech(TtsConfig())
    except TtsUnavailable as exc:
        return False, f"espeak-ng: {exc}"
    count = len(tts.voices())
    return True, f"espeak-ng: found ({count} voices)"


def _check_portaudio() -> list[tuple[bool, str]]:
    try:
        import sounddevice as sd
    except OSError:
        return [
            (False, "PortAudio: missing -- apt-get install libportaudio2 (or use --input FILE)")
        ]
    lines = [(True, f"PortAudio: found ({sd.get_portaudio_version()[1]})")]
    devices = sd.query_devices()
    inputs = [d["name"] for d in devices if d["max_input_channels"] > 0]
    outputs = [d["name"] for d in devices if d["max_output_channels"] > 0]
    lines.append((bool(inputs), f"microphones: {', '.join(inputs) or 'none -- use --input FILE'}"))
    lines.append((bool(outputs), f"speakers: {', '.join(outputs) or 'none -- use --output FILE'}"))
    return lines


def _check_thermal() -> list[tuple[bool, str]]:
    from voicecli.core.config import load_config
    from voicecli.thermal.monitor import describe_sources

    return describe_sources(load_config().config.thermal)


@app.command()
@handle_errors
def doctor() -> None:
    """Check the models, espeak-ng, PortAudio and audio devices."""
    model_ok, model_line = _check_model()
    tts_ok, tts_line = _check_espeak()
    lines = [(model_ok, model_line), _check_turn_model(), (tts_ok, tts_line)]
    lines += [*_check_portaudio(), *_check_thermal()]
    for ok, line in lines:
        typer.echo(f"{'ok     ' if ok else 'missing'}  {line}")
    if not model_ok:
        raise typer.Exit(int(ExitStatus.MODEL_MISSING))
    raise typer.Exit(int(ExitStatus.OK if tts_ok else ExitStatus.RUNTIME_FAILURE))
