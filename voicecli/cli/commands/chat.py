"""``voicecli chat``: a conversation from the microphone (the default), a file or the demo."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import typer

from voicecli.cli import options
from voicecli.cli.app import app, fail, handle_errors
from voicecli.core.errors import ExitStatus, UsageError

DEMO = "demo.flac"
MIC = "mic"


def demo_path() -> Path:
    return Path(str(resources.files("voicecli.data").joinpath(DEMO)))


@app.command()
@handle_errors
def chat(
    input: str | None = typer.Option(
        None,
        "--input",
        "-i",
        help="'mic' (the default), an audio file, or - for raw s16le 16 kHz mono PCM on stdin.",
    ),
    input_device: options.InputDevice = None,
    output: options.Output = None,
    output_device: options.OutputDevice = None,
    barge_in: bool | None = typer.Option(
        None,
        "--barge-in/--no-barge-in",
        help="Speaking over the assistant pauses it, then stops it for a question (default: "
        "on when echo cancellation loads; --barge-in without it uses the old echo model).",
    ),
    push_to_talk: bool = typer.Option(
        False, "--push-to-talk", help="Listen only while toggled on with the space bar."
    ),
    echo_cancel: bool = typer.Option(
        False, "--echo-cancel", help="WebRTC echo cancellation on the microphone (livekit)."
    ),
    demo: bool = typer.Option(False, "--demo", help="Play the bundled demo conversation."),
    json_: bool = typer.Option(False, "--json", help="Print events as JSON Lines."),
    plain: bool = typer.Option(False, "--plain", help="Print plain lines, not the dashboard."),
    fast: bool = typer.Option(False, "--fast", help="Feed file input as fast as possible."),
    model: options.Model = None,
    brain: options.Brain = None,
    llm: options.Llm = None,
    llm_url: options.LlmUrl = None,
    llm_model: options.LlmModel = None,
    voice: options.Voice = None,
    rate: options.Rate = None,
    bias: options.Bias = None,
    linger: float = typer.Option(
        10.0, "--linger", help="At the end of the input, wait this long for timers due by then."
    ),
    transcript: str | None = typer.Option(
        None, "--transcript", help="Append the conversation as text to this file."
    ),
    wake_word: str | None = typer.Option(
        None,
        "--wake-word",
        help="Hands-free: answer only after okay_nabu, alexa, hey_jarvis or hey_mycroft.",
    ),
) -> None:
    """Talk to the assistant: listen, transcribe, answer and speak."""
    from voicecli.cli.assistant import assistant_config, load_assistant
    from voicecli.core.bus import EventBus
    from voicecli.pipeline.pipeline import Pipeline
    from voicecli.thermal.monitor import ThermalMonitor

    if json_ and plain:
        raise UsageError("--json and --plain exclude each other")
    if demo and input:
        raise UsageError("--demo and --input exclude each other")
    live = not demo and (input is None or input.lower() == MIC)
    if not live and (input_device or barge_in is not None or push_to_talk or echo_cancel):
        raise UsageError(
            "--input-device, --barge-in, --push-to-talk and --echo-cancel need --input mic"
        )
    settings = options.AssistantOptions(model, brain, llm, llm_url, llm_model, voice, rate, bias)
    config = assistant_config(settings)
    if wake_word is not None:  # the flag wins over wake.word in the file or environment
        config.wake.word = wake_word
    if linger < 0:
        raise UsageError("--linger must be 0 or more seconds")
    gate = _wake_gate(config)  # before devices and models: exit 2 or 5 at once
    bus = EventBus()
    # started and stopped by the pipeline; bad thresholds fail here, before any model loads
    monitor = ThermalMonitor(config.thermal, emit=bus.publish)
    if live:  # the devices open now: a missing one fails before the models load
        from voicecli.pipeline.live import LiveAudio, LiveOptions

        mode = _barge_in_mode(barge_in, config)
        audio = LiveAudio(
            LiveOptions(
                input_device,
                output,
                output_device,
                mode,
                push_to_talk,
                echo_cancel=echo_cancel or bool(barge_in),
                # 96 ms blocks while hands-free (docs/wake.md)
                capture_frames=1 if gate is None else gate.capture_frames,
                hands_free=gate is not None,
                **dataclasses.asdict(config.echo),
            ),
            bus.publish,
        )
        source, sink = audio.source, audio.sink
    else:
        audio, source = None, _file_source(input, demo=demo, fast=fast)
        sink = _file_mode_sink(output, output_device)
    with load_assistant(config, opened=sink) as assistant:
        pipeline = Pipeline(
            config=config,
            engines=assistant.engines,
            source=source,
            sink=sink,
            bus=bus,
            fast=fast,
            brain=assistant.brain,
            linger_s=linger,
            thermal=monitor,
            wake=gate,
        )
        if audio is not None:
            audio.attach(pipeline)
            if gate is not None:  # with --echo-cancel the wake word stops a reply
                audio.wake_interrupts(config.wake)
        if gate is not None and config.wake.chime:
            gate.chime = _chime(sink)
        status = _run_with_transcript(pipeline, audio, transcript, json_=json_, plain=plain)
    if status is ExitStatus.RUNTIME_FAILURE:
        raise fail(pipeline.fatal.message, status)
    raise typer.Exit(int(status))


def _barge_in_mode(flag: bool | None, config) -> bool | None:
    """LiveOptions.barge_in: the flag, else None (on where echo is cancelled) unless the
    config's ``barge_in.enabled`` is false."""
    if flag is not None:
        return flag
    return None if config.barge_in.enabled else False


def _file_source(input: str | None, *, demo: bool, fast: bool):
    """A file (or the demo) or raw PCM on stdin, fed in real time unless ``fast``."""
    from voicecli.audio.source import FileSource
    from voicecli.audio.stdin_source import StdinSource

    if input == "-":
        return StdinSource(realtime=not fast)
    return FileSource(demo_path() if demo else input, realtime=not fast)


def _run_with_transcript(pipeline, audio, path: str | None, **options) -> ExitStatus:
    """``run_chat``, with ``--transcript`` appending what is said as the events come."""
    from voicecli.cli.chat_ui import run_chat

    if path is None:
        return run_chat(pipeline, audio, **options)
    from voicecli.cli.transcript_log import TranscriptLog
    from voicecli.core.bus import consume

    log = TranscriptLog(path)
    writer = consume(pipeline.bus, log, "transcript")
    try:
        return run_chat(pipeline, audio, **options)
    finally:
        writer.stop_and_join()
        log.close()


def _wake_gate(config):
    """The wake-word gate when a wake word is set (flag or ``wake.word``), else None."""
    if not config.wake.word:
        return None
    from voicecli.listen.wake_gate import WakeGate

    return WakeGate(config.wake)


def _chime(sink):
    """Play the chime on the speaker (mixed in, the microphone stays open); no speaker: none."""
    from voicecli.audio.chime import RATE, chime_tone
    from voicecli.audio.speaker import SpeakerSink

    if not isinstance(sink, SpeakerSink):
        return None
    tone = chime_tone()
    return lambda: sink.cue(tone, RATE)


def _file_mode_sink(output: str | None, output_device: str | None):
    from voicecli.audio.sink import open_sink

    if output is not None and output.lower() == "speaker":
        from voicecli.audio.speaker import SpeakerSink

        return SpeakerSink(output_device)
    if output_device:
        raise UsageError("--output-device needs --output speaker")
    return open_sink(output)
