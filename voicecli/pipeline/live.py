"""Live audio for ``voicecli chat`` (and ``connect``): the microphone, the speaker, the echo
canceller and the echo guard, wired.

Why here: the echo guard sits between the microphone and the listener, knows what the speaker
plays (PlaybackMonitor) and, on barge-in, asks the pipeline to interrupt (``Interrupt``
barge_in: the reply being made is cancelled and the speaker cut). A word too short to barge in
goes to the listener as a ``ShortWord``; if it says "stop" the pipeline interrupts too.
("stop" is a skill: the pipeline interrupts, and the skill answers nothing.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicecli.audio.devices import pick
from voicecli.audio.echo_canceller import EchoCanceller, EchoUnavailable, MonitoredCanceller
from voicecli.audio.echo_guard import MIN_SPEECH_S, EchoGuard
from voicecli.audio.mic import MicSource
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.audio.sink import AudioSink, open_sink
from voicecli.core.audio_format import SAMPLE_RATE, TTS_RATE
from voicecli.core.config import WakeConfig
from voicecli.core.events import Echo, Event, WarningEvent
from voicecli.core.messages import BARGE_IN, Interrupt, ShortWord

SPEAKER_STANDBY_S = 2.0  # hands-free: the speaker's stream stops after this much silence


@dataclass
class LiveOptions:
    input_device: str | None = None
    output: str | None = None  # "speaker", a WAV path, "none"
    output_device: str | None = None
    # None: on when the echo canceller loads (``chat``'s default), else the gate with a notice;
    # True: on, with the old echo model where the canceller cannot load; False: the gate
    barge_in: bool | None = False
    push_to_talk: bool = False
    min_speech_s: float = MIN_SPEECH_S
    echo_tail_s: float = 0.3
    reply_rate: int = TTS_RATE  # the rate of the reply audio played (connect: the hello's)
    # WebRTC echo cancellation on the microphone (--echo-cancel; implied by barge_in None). It
    # only touches the microphone while a reply plays: the raw microphone passes while nothing
    # has played for 0.5 s (benchmarks/ECHO.md)
    echo_cancel: bool = False
    # the module's extra processing: the ``[echo]`` settings (core.config.EchoConfig)
    noise_suppression: bool = True
    high_pass_filter: bool = False
    auto_gain_control: bool = False
    capture_frames: int = 1  # frames per microphone block (hands-free: the wake gate's batch)
    # hands-free (a wake word): while nothing plays the canceller's module is not run at all,
    # most of an asleep process's CPU otherwise, and the speaker's stream stops after
    # SPEAKER_STANDBY_S of silence (docs/wake.md)
    hands_free: bool = False


class LiveAudio:
    """Opens the devices up front, so a missing one fails before any model loads (exit 4)."""

    def __init__(self, options: LiveOptions, emit: Callable[[Event], None]) -> None:
        self.emit = emit
        self.monitor = PlaybackMonitor()
        self.pipeline = None
        pick(options.input_device, "input")  # no microphone: say so first, before the speaker
        self.sink = self._open_sink(options)
        self.guard = None
        self.canceller = None
        if self.speaker is not None:
            self.canceller = self._open_canceller(options)
            barge_in = options.barge_in
            if barge_in is None:  # on by default only where the echo is cancelled
                barge_in = self.canceller is not None
            self.guard = EchoGuard(
                self.monitor,
                barge_in=barge_in,
                on_barge_in=self._barge_in,
                on_short_speech=self._short_speech,
                min_speech_s=options.min_speech_s,
                tail_s=options.echo_tail_s,
                canceller=self.canceller,
            )
        try:
            self.source = MicSource(
                options.input_device,
                emit=emit,
                guard=self.guard,
                monitor=self.monitor,
                push_to_talk=options.push_to_talk,
                canceller=self.canceller,
                block_frames=options.capture_frames,
            )
        except BaseException:
            self.sink.close()
            raise

    def _open_canceller(self, options: LiveOptions) -> MonitoredCanceller | None:
        """The WebRTC echo canceller on the microphone, when asked for (or barge-in is left to
        the default); where it cannot load, a one-line notice and an ``echo`` event saying
        why, and the guard works as without (default barge-in: off, the gate)."""
        if not options.echo_cancel and options.barge_in is not None:
            return None
        try:
            canceller = EchoCanceller(
                noise_suppression=options.noise_suppression,
                high_pass_filter=options.high_pass_filter,
                auto_gain_control=options.auto_gain_control,
            )
        except EchoUnavailable as exc:
            message = str(exc)
            if options.barge_in is None:
                message = f"barge-in off, the microphone is gated while I speak: {exc}"
            self.emit(WarningEvent(code="echo_canceller_unavailable", message=message, count=1))
            self.emit(Echo(state="off", reason=str(exc)))
            return None
        return MonitoredCanceller(
            canceller, self.monitor, self.emit, idle_native=not options.hands_free
        )

    def _open_sink(self, options: LiveOptions) -> AudioSink:
        output = options.output or "speaker"
        if output.lower() == "speaker":
            from voicecli.audio.speaker import SpeakerSink

            # With barge-in the speaker runs at the microphone's rate when it can: no
            # resampler then sits in the echo path, and the reference matches what is played.
            rate = SAMPLE_RATE if options.barge_in is not False else None
            return SpeakerSink(
                options.output_device,
                self.monitor,
                prefer_rate=rate,
                source_rate=options.reply_rate,
                standby_after_s=SPEAKER_STANDBY_S if options.hands_free else None,
            )
        return open_sink(output)

    @property
    def speaker(self):
        from voicecli.audio.speaker import SpeakerSink

        return self.sink if isinstance(self.sink, SpeakerSink) else None

    def attach(self, pipeline) -> None:
        """The pipeline, once it exists: barge-in interrupts the reply being made."""
        self.pipeline = pipeline

    def wake_interrupts(self, config: WakeConfig) -> bool:
        """Hands-free with echo cancellation: the wake word said over a reply stops it
        (pipeline/wake_interrupt.py). False without a working canceller: the microphone is
        gated while the assistant speaks, and the model would hear its voice."""
        if self.canceller is None:
            return False
        from voicecli.pipeline.wake_interrupt import WakeInterrupt

        self.source.tap = WakeInterrupt(config, self.monitor, self._interrupt, self.emit)
        return True

    def _interrupt(self, request: Interrupt) -> None:
        if self.pipeline is not None:
            self.pipeline.interrupt(request)

    def _barge_in(self, speech_ms: float, wall: float) -> None:
        if self.pipeline is not None:  # paused, then decided by what was said
            self.pipeline.barge_in(Interrupt(BARGE_IN, wall=wall, speech_ms=speech_ms))

    def _short_speech(self, audio, wall: float) -> None:
        """A word too short to barge in: the listener has it transcribed (on the STT worker,
        never blocking the microphone) and the pipeline stops speaking if it says "stop"."""
        if self.pipeline is not None:
            self.pipeline.hear(ShortWord(audio, wall))
