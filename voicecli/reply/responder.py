"""The responder stage: brain -> sentences -> TTS -> audio sink, and the turn's metrics.

Why sentence by sentence: the first sentence is spoken while the rest is still being made, so
"reply" and "TTS first audio" latencies are measured on the first sentence. A long first
sentence is spoken clause by clause (``split_clauses``): Piper takes ~0.13 s per second of
speech, so its first clause plays while the next is synthesised (the sink queues audio: the
speaker keeps playing while the responder synthesises ahead). With Piper the first piece is
also cut once at a phrase boundary (``first_pieces``), the silence at that cut trimmed
(``close_join``). A failure confined to one turn (a brain bug, one sentence TTS cannot say)
is an ``error`` with fatal:false and the conversation goes on; a failing sink (disk full)
escapes and ends the pipeline.

Its queue (``turns``) carries typed ``ResponderMessage``s only (core.messages): turns and
announcements are answered in order; ``EndOfUtterance`` and ``EndOfInput`` are markers, passed
to ``on_answered`` once everything before them is answered; ``Hangup`` ends the stage. The
reply being made is registered with the ``PlaybackLine`` (audio.playback), whose ``interrupt``
cancels it at once (generation stops: the brain's stream is closed; no new piece starts
synthesising; nothing more reaches the sink) and cuts its playback; the line emits every
``playback`` event. ``reply`` events carry the text as written; TTS speaks its ``speakable``
form (no markdown, code, URLs or emoji).
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from voicecli.audio.playback import PlaybackLine
from voicecli.core.clock import PipelineClock
from voicecli.core.events import ErrorEvent, Event, Reply, TurnMetrics
from voicecli.core.lifecycle import IDLE_WAIT_S, POLL_S, ManagedThread
from voicecli.core.messages import (
    Announcement,
    EndOfInput,
    EndOfUtterance,
    Hangup,
    ResponderMessage,
    StopAsked,
    UserTurn,
)
from voicecli.reply.brain import Brain, ReplyControl, ReplyFailed
from voicecli.reply.confirm import Confirmer, Screened
from voicecli.reply.context import SkillContext
from voicecli.reply.sentences import SentenceSplitter, cut_mid_phrase, first_pieces
from voicecli.reply.speakable import Speakable
from voicecli.reply.tts import TextToSpeech, close_join


class SinkFailed(RuntimeError):
    """The sink could not take the audio (disk full, device gone): fatal, not one turn's loss."""


SORRY = "Sorry, something went wrong while answering that."


@dataclass
class _SpokenReply:
    """One turn's reply as it is being spoken: its sentences and the instants measured."""

    turn: UserTurn
    control: ReplyControl = field(default_factory=ReplyControl)
    speakable: Speakable = field(default_factory=Speakable)
    sentences: list[str] = field(default_factory=list)
    wall_reply: float | None = None  # first sentence ready
    wall_audio: float | None = None  # first audio ready


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start) * 1000, 1)


class Responder:
    def __init__(
        self,
        *,
        brain: Brain,
        tts: TextToSpeech,
        playback: PlaybackLine,
        clock: PipelineClock,
        context: SkillContext,
        emit: Callable[[Event], None],
        fast: bool,
        on_answered: Callable[[EndOfUtterance | EndOfInput], None],
        confirm: Confirmer | None = None,  # None: every turn is answered as heard
    ) -> None:
        self.brain = brain
        self.tts = tts
        self.playback = playback
        self.sink = playback.sink
        self.clock = clock
        self.context = context
        self.conversation = context.conversation
        self.emit = emit
        self.fast = fast
        self.on_answered = on_answered  # a marker reached: everything before it is answered
        self.confirm = confirm
        self.turns: queue.Queue[ResponderMessage] = queue.Queue()
        self.first_sentence_only = False  # thermal protection: replies cut after one sentence

    def apply_thermal(self, protection) -> None:
        """Thermal protection (docs/thermal.md): replies cut after their first sentence, and
        spoken by espeak-ng."""
        self.first_sentence_only = protection.first_sentence_only
        self.tts.apply_thermal(protection)

    def run(self, thread: ManagedThread, on_end: Callable[[], None]) -> None:
        thread.on_stop(lambda: self.turns.put_nowait(StopAsked()))
        while not thread.should_stop():
            asking = self.confirm is not None and self.confirm.pending is not None
            try:  # a pending confirmation must expire on time; else sleep until a message
                message = self.turns.get(timeout=POLL_S if asking else IDLE_WAIT_S)
            except queue.Empty:
                if self.confirm is not None:
                    self.confirm.expire()
                continue
            if isinstance(message, UserTurn):
                self.answer(message, thread)
            elif isinstance(message, Announcement):
                self.announce(message.text)
            elif isinstance(message, EndOfUtterance | EndOfInput):
                self.on_answered(message)
            elif isinstance(message, Hangup):
                on_end()
                return

    def announce(self, text: str) -> None:
        """Speak ``text`` outside any user turn: no brain, no turn metrics; interruptible."""
        spoken = _SpokenReply(UserTurn(number=None, text="", typed=True))
        self.playback.making(spoken.control)
        try:
            self._say(spoken, text)
        finally:
            self.playback.making(None)
        self.emit(Reply(t=self.clock.now(), text=" ".join(spoken.sentences), final=True))
        if spoken.wall_audio is not None:
            self.playback.end_reply()
        self.conversation.last_reply = text

    def answer(self, turn: UserTurn, thread: ManagedThread) -> None:
        spoken = _SpokenReply(turn)
        control = spoken.control
        self.playback.making(control)
        splitter = SentenceSplitter()
        try:
            screened = Screened(turn.text) if self.confirm is None else self.confirm.screen(turn)
            deltas = screened.deltas(lambda text: self.brain.stream(text, self.context, control))
            with contextlib.closing(deltas):  # closing it stops generation (HTTP stream, model)
                for delta in deltas:
                    for sentence in splitter.feed(delta):
                        if not self._enough(spoken):
                            self._say(spoken, sentence)
                    if thread.should_stop():
                        control.cancel()
                        return
                    if control.cancelled or self._enough(spoken):
                        break
            if not control.cancelled:
                for sentence in splitter.flush():
                    if not self._enough(spoken):
                        self._say(spoken, sentence)
        except ReplyFailed as exc:  # the LLM failed: say so briefly, the conversation goes on
            self.emit(
                ErrorEvent(
                    t=self.clock.now(),
                    turn=turn.number,
                    code=exc.code,
                    message=str(exc),
                    fatal=False,
                )
            )
            self._say(spoken, exc.spoken)
        except SinkFailed:  # the audio has nowhere to go: that ends the pipeline
            raise
        except Exception as exc:  # a brain bug spoils this turn only
            self.emit(
                ErrorEvent(
                    t=self.clock.now(),
                    turn=turn.number,
                    code="reply_failed",
                    message=f"reply failed: {exc!r}",
                    fatal=False,
                )
            )
            if not spoken.sentences:
                self._say(spoken, SORRY)
        finally:
            self.playback.making(None)
        reply = " ".join(spoken.sentences)
        self.emit(Reply(t=self.clock.now(), turn=turn.number, text=reply, final=True))
        if spoken.wall_audio is not None:
            self.playback.end_reply()
        self.conversation.add(turn.text, reply)
        self.emit(self._metrics(spoken))

    def _enough(self, spoken: _SpokenReply) -> bool:
        """Under thermal protection one sentence is the whole reply."""
        return self.first_sentence_only and bool(spoken.sentences)

    def _say(self, spoken: _SpokenReply, sentence: str) -> None:
        number = spoken.turn.number
        if spoken.control.cancelled:
            return
        spoken.sentences.append(sentence)
        if spoken.wall_reply is None:
            spoken.wall_reply = time.monotonic()
        self.emit(Reply(t=self.clock.now(), turn=number, text=sentence, final=False))
        said = spoken.speakable.convert(sentence)
        if not said:
            return
        first = spoken.wall_audio is None and len(spoken.sentences) == 1
        pieces = first_pieces(said, phrases=self.tts.engine == "piper") if first else [said]
        for index, piece in enumerate(pieces):
            after_cut = index > 0 and cut_mid_phrase(pieces[index - 1])
            before_cut = index < len(pieces) - 1 and cut_mid_phrase(piece)
            self._speak(spoken, piece, after_cut, before_cut)

    def _speak(self, spoken: _SpokenReply, said: str, after_cut: bool, before_cut: bool) -> None:
        number = spoken.turn.number
        if spoken.control.cancelled:  # interrupted: no new piece starts synthesising
            return
        try:
            pcm = self.tts.synthesize(said)
        except Exception as exc:  # one sentence TTS cannot say
            self.emit(
                ErrorEvent(
                    t=self.clock.now(),
                    turn=number,
                    code="tts_failed",
                    message=f"speech synthesis failed: {exc}",
                    fatal=False,
                )
            )
            return
        if pcm.size == 0 or spoken.control.cancelled:
            return
        if after_cut or before_cut:
            pcm = close_join(pcm, start=after_cut, end=before_cut)
        if spoken.wall_audio is None:
            if not self.playback.started(number, spoken.control):
                return  # interrupted just now: nothing of it is played
            spoken.wall_audio = time.monotonic()
        try:
            self.sink.write(pcm)
        except Exception as exc:
            raise SinkFailed(f"audio output failed: {exc}") from exc

    def _metrics(self, reply: _SpokenReply) -> TurnMetrics:
        turn, wall_reply, wall_audio = reply.turn, reply.wall_reply, reply.wall_audio
        spoken = not turn.typed
        wall_eos = turn.wall_eos if spoken else None
        if spoken and self.fast:
            turn_wait = _ms(turn.t_eos, turn.t_turn)  # pipeline clock
        else:
            turn_wait = _ms(wall_eos, turn.wall_turn)
        return TurnMetrics(
            t=self.clock.now(),
            turn=turn.number,
            eos_to_transcript_ms=_ms(wall_eos, turn.wall_stt),
            turn_wait_ms=turn_wait,
            reply_ms=_ms(turn.wall_turn, wall_reply),
            tts_first_audio_ms=_ms(wall_reply, wall_audio),
            voice_to_voice_ms=_ms(wall_eos, wall_audio),
            stt_compute_ms=round(turn.stt_compute_ms, 1)
            if spoken and turn.stt_compute_ms
            else None,
            first_token_ms=_ms(turn.wall_turn, reply.control.first_token_wall),
            turn_probability=turn.turn_probability,
            turn_source=turn.turn_source,
        )
