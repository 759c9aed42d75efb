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


def _check_tts() -> list[tuple[bool, str]]:
    """espeak-ng (always needed: the fallback and thermal voice), then the configured voice."""
    from voicecli.core import catalogue
    from voicecli.core.config import load_config
    from voicecli.reply.tts import TextToSpeech, TtsUnavailable

    config = load_config().config.tts
    try:
        tts = TextToSpeech(config)
    except TtsUnavailable as exc:
        return [(False, f"espeak-ng: {exc}")]
    count = sum(1 for v in tts.voices() if v.engine == "espeak-ng")
    lines = [(True, f"espeak-ng: found ({count} voices)")]
    if tts.fallback:
        voice = catalogue.find(config.voice.partition(":")[2], "tts")
        fix = f" -- {voice.install}" if voice else ""
        lines.append((False, f"Piper: {tts.fallback}; espeak-ng speaks instead{fix}"))
    lines.append((True, f"TTS engine loaded: {tts.engine} (voice {config.voice})"))
    return lines


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


def _check_wake() -> tuple[bool, str]:
    """The wake words (chat --wake-word): optional, so never a failing exit code."""
    from voicecli.listen.wake import WAKE_WORDS, available

    ok, detail = available()
    words = ", ".join(WAKE_WORDS)
    return ok, f"wake words ({words}): {detail}" if ok else f"wake words: {detail}"


def _check_echo() -> tuple[bool, str]:
    from voicecli.audio.echo_canceller import unavailable_reason
    from voicecli.core.config import load_config

    reason = unavailable_reason()
    if reason is None:
        echo = load_config().config.echo
        settings = (
            ("noise suppression", echo.noise_suppression),
            ("high-pass filter", echo.high_pass_filter),
            ("gain control", echo.auto_gain_control),
        )
        switches = ", ".join(f"{name} {'on' if on else 'off'}" for name, on in settings)
        return True, f"echo cancellation: WebRTC audio processing (livekit) loads; {switches}"
    return False, f"echo cancellation: {reason} (for --echo-cancel)"


def _check_thermal() -> list[tuple[bool, str]]:
    from voicecli.core.config import load_config
    from voicecli.thermal.monitor import describe_sources

    return describe_sources(load_config().config.thermal)


@app.command()
@handle_errors
def doctor() -> None:
    """Check the models, TTS engines, PortAudio, audio devices, echo cancellation, wake words."""
    model_ok, model_line = _check_model()
    tts_lines = _check_tts()
    tts_ok = tts_lines[0][0]  # espeak-ng: without Piper voicecli still speaks
    lines = [(model_ok, model_line), _check_turn_model(), *tts_lines, *_check_portaudio()]
    lines += [_check_echo(), _check_wake(), *_check_thermal()]
    for ok, line in lines:
        typer.echo(f"{'ok     ' if ok else 'missing'}  {line}")
    if not model_ok:
        raise typer.Exit(int(ExitStatus.MODEL_MISSING))
    raise typer.Exit(int(ExitStatus.OK if tts_ok else ExitStatus.RUNTIME_FAILURE))
