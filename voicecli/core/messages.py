"""The typed hand-offs between the pipeline's stages: what travels on their queues.

Why one module: source -> listener -> responder -> sink is read as a chain of messages, and
each queue's type says everything that can arrive on it. Nothing else rides a queue: no
``None`` sentinel, no callable. Events (core.events) flow *out* of the pipeline to consumers;
these messages flow *between* its stages and are never serialised.

- source -> listener (``SourceMessage``): ``Frame`` (with its sample rate), ``EndOfUtterance``
  (a live client's ``end``: declare the open turn now, input goes on), ``ShortWord`` (a word
  the echo guard heard over the reply, to check for "stop"), ``EndOfInput``.
- STT worker -> listener: ``Transcription``, the outcome of one job.
- listener -> pipeline (``ListenerMessage``): ``UserTurn``, ``HeardWord`` (what a short word
  said), ``EndOfUtterance``, ``EndOfInput``.
- pipeline -> responder (``ResponderMessage``): ``UserTurn``, ``Announcement`` (a timer's
  notice), ``EndOfUtterance``, ``EndOfInput`` and ``Hangup`` (the last message).
- anyone -> the playback line: ``Interrupt`` (stop speaking now, and why).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from voicecli.core.audio_format import SAMPLE_RATE


@dataclass(frozen=True)
class Frame:
    """A block of float32 mono samples (512 at 16 kHz from every source)."""

    samples: np.ndarray
    wall: float  # monotonic time at which the frame's last sample was available
    rate: int = SAMPLE_RATE


@dataclass(frozen=True)
class EndOfInput:
    """The source has no more audio (end of a file or of stdin): the last message it sends."""


@dataclass(frozen=True)
class EndOfUtterance:
    """A live client's ``end``: the open turn is declared at once and input goes on; once the
    replies queued before it are made, the pipeline's ``on_utterance_answered`` is told."""


@dataclass(frozen=True)
class ShortWord:
    """Speech over the reply too short to barge in (the echo guard's): transcribed, and
    playback is cut if it says "stop"."""

    audio: np.ndarray
    wall: float  # when the word's last sample was captured


SourceMessage = Frame | EndOfUtterance | ShortWord | EndOfInput


@dataclass(frozen=True)
class Transcription:
    """The STT worker's answer to one job: its text, or the error that stopped it."""

    job_id: int
    kind: str  # "final" or "partial"
    text: str  # stripped; "" after an error
    finished: float  # monotonic time the result was ready
    compute_ms: float | None = None
    error: BaseException | None = None
    avg_logprob: float | None = None  # the decoder's confidence (SttResult's)
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class UserTurn:
    """A declared turn, handed to the responder with the instants its latencies come from."""

    number: int | None
    text: str
    typed: bool = False
    t_eos: float | None = None  # pipeline clock, last speech sample
    t_turn: float | None = None  # pipeline clock, turn declared
    wall_eos: float | None = None  # monotonic instants (real-time input only)
    wall_stt: float | None = None
    wall_turn: float = 0.0
    stt_compute_ms: float | None = None
    turn_probability: float | None = None  # the turn model's last P(complete), None: not run
    turn_source: str | None = None  # what decided the turn: rule | model | both
    avg_logprob: float | None = None  # the decoder's confidence in ``text``; None: typed
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class HeardWord:
    """What a ``ShortWord`` said, for the pipeline to decide whether it was "stop"."""

    text: str
    wall: float
    speech_ms: float


ListenerMessage = UserTurn | HeardWord | EndOfUtterance | EndOfInput


@dataclass(frozen=True)
class Announcement:
    """Words to speak outside any user turn (a timer's notice), in order with the replies."""

    text: str


@dataclass(frozen=True)
class Hangup:
    """The last message to the responder: everything before it is answered, the pipeline ends."""


@dataclass(frozen=True)
class StopAsked:
    """Wakes the responder at once when its thread is asked to stop (it waits on its queue
    for seconds while idle, not polling)."""


ResponderMessage = UserTurn | Announcement | EndOfUtterance | EndOfInput | Hangup | StopAsked


# Why an interrupt was asked for (``Interrupt.cause``).
STOP_TURN = "stop_turn"  # a declared turn (typed or spoken) that says "stop"
BARGE_IN = "barge_in"  # the echo guard heard speech over the reply
STOP_WORD = "stop_word"  # the echo guard transcribed a short "stop" over the reply
KEY = "key"  # the ``s`` key
WAKE_WORD = "wake_word"  # the wake word heard on the echo-cancelled microphone over the reply
CLIENT = "client"  # a server client's ``interrupt`` message
SPEECH = "speech"  # a server session heard its client speak over the reply
AUDIO_STOP = "audio_stop"  # a protocol client told by the server to stop playing
SHUTDOWN = "shutdown"  # the pipeline is stopping


@dataclass(frozen=True)
class Interrupt:
    """Stop speaking now: the reply being made is cancelled and its playback cut.

    ``wall``: when the deciding input was captured (stop latency is measured from it);
    ``speech_ms``/``text``: the speech that barged in, for the ``barge_in`` event;
    ``still_audible``: a remote player still has audio of a reply already made."""

    cause: str
    wall: float = field(default_factory=time.monotonic)
    speech_ms: float | None = None
    text: str | None = None
    still_audible: bool = False
