"""The listener stage: VAD, speculative transcription and turn detection on one audio stream.

Why in one thread: these three decisions share the utterance buffer and the pipeline clock.
At the first silent frame after speech the utterance goes to the STT worker at once (the turn
wait then hides the STT time); if speech resumes before the turn is declared, that result is
dropped. The turn is declared once the transcript is known and the silence since the last
speech sample has lasted the wait its ending calls for.

Its traffic is typed (core.messages): ``SourceMessage`` in from the source, ``Transcription``
back from the STT worker, and ``ListenerMessage`` out through ``deliver`` (a declared
``UserTurn``, a ``HeardWord`` the echo guard asked about, ``EndOfUtterance``, ``EndOfInput``).
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from voicecli.audio.vad import SpeechSegmenter, VadStream
from voicecli.core import catalogue
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.clock import PipelineClock
from voicecli.core.config import Config
from voicecli.core.events import ErrorEvent, Event, SpeechEnd, SpeechStart, Transcript, WarningEvent
from voicecli.core.lifecycle import POLL_S, ManagedThread
from voicecli.core.messages import (
    EndOfInput,
    Frame,
    HeardWord,
    ListenerMessage,
    ShortWord,
    SourceMessage,
    Transcription,
    UserTurn,
)
from voicecli.listen.stt_worker import FINAL, PARTIAL, SttJob, SttWorker
from voicecli.listen.turn import RULES, TurnJudge
from voicecli.listen.wake_gate import DROP, LISTEN, WakeGate

PREROLL_FRAMES = 8  # 256 ms kept before speech onset: Silero reacts a little late
SHORT_WORDS = "echo-guard"  # the STT session of the words heard over the reply


class Listener:
    def __init__(
        self,
        *,
        config: Config,
        clock: PipelineClock,
        stt: SttWorker,
        session: str,
        emit: Callable[[Event], None],
        deliver: Callable[[ListenerMessage], None],
        next_turn_number: Callable[[], int],
        fast: bool,
        turn_model=None,
        wake: WakeGate | None = None,
        prompt: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        # the recognition bias, asked for at each transcription (it follows the conversation);
        # built above this layer (reply.bias), so listen/ only sees text
        self.prompt = prompt or str
        self.wake = wake  # hands-free: frames pass only while awake (listen/wake_gate.py)
        self.clock = clock
        self.stt = stt
        self.session = session
        self.emit = emit
        self.deliver = deliver
        self.next_turn_number = next_turn_number
        self.fast = fast
        self.vad = VadStream(config.vad.engine)
        self.segmenter = SpeechSegmenter(config.vad)
        self.tail_frames = round(config.vad.tail_ms / 1000 * SAMPLE_RATE / FRAME)
        # partials are for people watching live; --fast input has no one to show them to.
        # Thermal protection switches them off while the machine is hot (apply_thermal).
        self.partials_wanted = config.stt.partials and not fast
        self.partials_enabled = self.partials_wanted
        self.partial_frames = max(1, round(config.stt.partial_interval_s * SAMPLE_RATE / FRAME))
        self._results: queue.Queue[Transcription] = queue.Queue()
        self._short_words: dict[int, ShortWord] = {}  # by STT job id
        self._recent: deque[np.ndarray] = deque(maxlen=PREROLL_FRAMES + self.segmenter.min_frames)
        self._frames = 0
        self.judge = TurnJudge(config.turn, turn_model)
        # the shortest turn wait now, seconds (the pipeline raises it while a reply is paused
        # by a barge-in: words spoken over the reply come out with gaps in them)
        self.wait_floor: Callable[[], float] = lambda: 0.0
        self._reset_turn()
        self._turn_number: int | None = None

    def apply_thermal(self, protection) -> None:
        """Thermal protection (docs/thermal.md): no partials while the processor is hot."""
        self.partials_enabled = self.partials_wanted and protection.partials_enabled
        self.judge.apply_thermal(protection)

    # -- per-turn state --------------------------------------------------------------------
    def _reset_turn(self) -> None:
        self.buffer: list[np.ndarray] = []
        self.pending = False  # speech ended, turn not yet declared
        self.job: SttJob | None = None
        self.transcript: Transcription | None = None  # the current pending phase's result
        self.t_eos = 0.0
        self.wall_eos: float | None = None
        self.force = False  # declare as soon as the transcript is known (end of input)
        self.tail = 0  # frames kept after the last speech frame, before the STT job starts
        self.partial_job: SttJob | None = None
        self.partial_at = 0  # buffer length (frames) when the last partial was submitted
        self.judge.reset()

    # -- main loop -------------------------------------------------------------------------
    def cancel_jobs(self) -> None:
        """The pipeline is stopping: its queued transcriptions are no longer wanted."""
        for job in (self.job, self.partial_job):
            if job is not None:
                job.cancel()

    def run(self, thread: ManagedThread, frames: queue.Queue[SourceMessage]) -> None:
        self._warn_if_no_turn_model()
        last_wall = None
        while not thread.should_stop():
            if self.pending and self.transcript is None and self._decision_due():
                self._wait_for_transcript(thread)  # the source waits for the turn decision
            self._drain_results()
            self._maybe_declare()
            try:
                frame = frames.get(timeout=POLL_S)
            except queue.Empty:
                self._maybe_declare()
                continue
            if isinstance(frame, Frame):
                self._process(frame, last_wall)
                last_wall = frame.wall
            elif isinstance(frame, ShortWord):
                self._transcribe_short_word(frame)
            else:  # EndOfUtterance, EndOfInput: the open turn is declared at once
                self._declare_open_turn(thread)
                self.deliver(frame)
                if isinstance(frame, EndOfInput):
                    return

    def _warn_if_no_turn_model(self) -> None:
        """Said once per conversation: the setting wants the model, and it is not installed."""
        entry = catalogue.default("turn")
        if self.config.turn.detector == RULES or self.judge.model or entry.location():
            return
        self.emit(
            WarningEvent(
                t=self.clock.now(),
                code="turn_model_missing",
                message=f"the turn model {entry.id} is not installed: turns are decided by "
                f"the transcript rules alone (install it with: {entry.install})",
            )
        )

    def _decision_due(self) -> bool:
        """Must the turn decision wait for the transcript now? Always for --fast input and at
        the end of input; live, once the silence is as long as any ordinary wait (so a slow
        transcription cannot merge two questions said 1.25 s apart)."""
        silence = self.clock.now() - self.t_eos
        return self.fast or self.force or silence >= self.config.turn.wait_no_punctuation_s

    def _process(self, frame: Frame, previous_wall: float | None) -> None:
        if self.wake is not None and not self._awake(frame):
            return
        t_frame = self.clock.now()  # pipeline time of this frame's first sample
        self.clock.advance(FRAME)
        index = self._frames
        self._frames += 1
        self._recent.append(frame.samples)
        decision = self.segmenter.update(self.vad.probability(frame.samples), index)
        if decision.started:
            self._speech_started(t_frame)
        elif self.segmenter.in_speech or self.pending or decision.ended:
            self.buffer.append(frame.samples)
        if decision.ended:
            self._speech_ended(t_frame, previous_wall)
        if self.pending and self.job is None:
            self.tail += 1
            if self.tail >= self.tail_frames:
                self._submit()
        elif self.pending:
            self.judge.during_silence(self._audio, self.clock.now() - self.t_eos)
        elif self.segmenter.in_speech and len(self.buffer) * FRAME > self._max_samples():
            self._speech_ended(self.clock.now(), frame.wall, force=True)
            self.segmenter.in_speech = False
        elif self.segmenter.in_speech and not self.pending:
            self._maybe_partial()

    def _awake(self, frame: Frame) -> bool:
        """Asleep, only the wake-word model hears the frame. Once it hears the wake word, the
        pre-roll restarts at the detection point and VAD starts afresh with the next frame."""
        idle = not (self.pending or self.segmenter.in_speech)
        verdict = self.wake.admit(frame.samples, idle=idle)
        if verdict is LISTEN:
            return True
        self.clock.advance(FRAME)
        self._frames += 1
        if verdict is not DROP:
            self._recent.clear()
            self._recent.append(verdict)
            self.vad.reset()
        return False

    def _maybe_partial(self) -> None:
        """Every ``partial_interval_s`` of new speech, a partial transcript -- only when the STT
        worker is idle (skipped under load), and never once speech has paused (the final must
        not wait behind a partial)."""
        if not self.partials_enabled or len(self.buffer) - self.partial_at < self.partial_frames:
            return
        if self.stt.busy:
            return
        self.partial_at = len(self.buffer)
        self.partial_job = self.stt.submit(
            SttJob(
                audio=np.concatenate(self.buffer),
                kind=PARTIAL,
                session=self.session,
                reply_to=self._results,
                prompt=self.prompt(),
            )
        )

    def _max_samples(self) -> int:
        return int(self.config.vad.max_utterance_s * SAMPLE_RATE)

    # -- speech events ---------------------------------------------------------------------
    def _speech_started(self, t_frame: float) -> None:
        onset = t_frame - (self.segmenter.min_frames - 1) * FRAME / SAMPLE_RATE
        if self.pending:  # speech resumed before the turn was declared: drop the speculation
            if self.job is not None:
                self.job.cancel()
            self.pending, self.job, self.transcript = False, None, None
            self.judge.speech_resumed()
            self.buffer.append(self._recent[-1])
        else:
            self.buffer = list(self._recent)
            if self._turn_number is None:
                self._turn_number = self.next_turn_number()
        self.emit(SpeechStart(t=onset, turn=self._turn_number))

    def _speech_ended(self, t_eos: float, wall_eos: float | None, force: bool = False) -> None:
        self.pending = True
        self.force = force
        self.t_eos = t_eos
        self.wall_eos = None if self.fast else wall_eos
        self.emit(SpeechEnd(t=t_eos, turn=self._turn_number))
        self.transcript = None
        self.tail = 0
        if force or self.tail_frames == 0:
            self._submit()

    def _audio(self) -> np.ndarray:
        return np.concatenate(self.buffer) if self.buffer else np.zeros(FRAME, np.float32)

    def _submit(self) -> None:
        """Transcribe the utterance so far (speculatively: speech may still resume), and score
        the turn model on it meanwhile."""
        audio = self._audio()
        self.job = self.stt.submit(
            SttJob(
                audio=audio,
                kind=FINAL,
                session=self.session,
                reply_to=self._results,
                prompt=self.prompt(),
            )
        )
        if not self.force:
            self.judge.silence_began(audio, self.clock.now() - self.t_eos)

    def _transcribe_short_word(self, word: ShortWord) -> None:
        """A word the echo guard heard over the reply: what it says goes to the pipeline."""
        job = SttJob(
            audio=word.audio,
            kind=FINAL,
            session=SHORT_WORDS,
            reply_to=self._results,
            prompt=self.prompt(),
        )
        self._short_words[job.id] = word
        self.stt.submit(job)

    def _drain_results(self) -> None:
        while True:
            try:
                result = self._results.get_nowait()
            except queue.Empty:
                return
            self._take(result, partials=True)

    def _take(self, result: Transcription, partials: bool) -> None:
        if self.job is not None and result.job_id == self.job.id:
            self.transcript = result
        elif result.job_id in self._short_words:
            word = self._short_words.pop(result.job_id)
            speech_ms = round(len(word.audio) / SAMPLE_RATE * 1000, 1)
            self.deliver(HeardWord(text=result.text, wall=word.wall, speech_ms=speech_ms))
        elif partials and self._is_partial(result) and self.transcript is None:
            self._emit_partial(result)

    def _is_partial(self, result: Transcription) -> bool:
        return self.partial_job is not None and result.job_id == self.partial_job.id

    def _emit_partial(self, result: Transcription) -> None:
        self.partial_job = None
        text = result.text
        if any(ch.isalnum() for ch in text):
            self.emit(
                Transcript(t=self.clock.now(), turn=self._turn_number, text=text, final=False)
            )

    def _wait_for_transcript(self, thread: ManagedThread) -> None:
        while not thread.should_stop() and self.transcript is None and self.job is not None:
            try:
                result = self._results.get(timeout=POLL_S)
            except queue.Empty:
                continue
            self._take(result, partials=False)

    def _maybe_declare(self) -> None:
        if not self.pending or self.transcript is None:
            return
        result = self.transcript
        if result.error is not None:
            self.emit(
                ErrorEvent(
                    t=self.clock.now(),
                    turn=self._turn_number,
                    code="stt_failed",
                    message=f"transcription failed: {result.error}",
                    fatal=False,
                )
            )
            self._abandon()
            return
        text = result.text
        if not any(ch.isalnum() for ch in text):  # noise, a cough: no turn
            self._abandon()
            return
        waited = self.clock.now() - self.t_eos
        plan = self.judge.plan(text)
        if not self.force and waited < max(plan.wait_s, self.wait_floor()):
            return
        self._declare(text, result, plan.source)

    def _abandon(self) -> None:
        self._reset_turn()
        self.force = False

    def _declare(self, text: str, result: Transcription, source: str) -> None:
        t_turn = self.clock.now()
        turn = UserTurn(
            number=self._turn_number,
            text=text,
            t_eos=self.t_eos,
            t_turn=t_turn,
            wall_eos=self.wall_eos,
            wall_stt=None if self.fast else result.finished,
            wall_turn=time.monotonic(),
            stt_compute_ms=result.compute_ms,
            turn_probability=self.judge.probability,
            turn_source=source,
            avg_logprob=result.avg_logprob,
            no_speech_prob=result.no_speech_prob,
        )
        self.emit(
            Transcript(
                t=t_turn,
                turn=turn.number,
                text=text,
                final=True,
                avg_logprob=result.avg_logprob,
                no_speech_prob=result.no_speech_prob,
            )
        )
        self._turn_number = None
        self._reset_turn()
        self.deliver(turn)

    def _declare_open_turn(self, thread: ManagedThread) -> None:
        """Declare the open turn now, without waiting for more silence (end of input is
        endless silence; a client's ``end`` says the utterance is over)."""
        if self.segmenter.in_speech:
            self.segmenter.in_speech = False
            self._speech_ended(
                self.clock.now(), None if self.fast else time.monotonic(), force=True
            )
        if self.pending:
            self.force = True
            if self.job is None:
                self._submit()
            self._wait_for_transcript(thread)
            self._maybe_declare()
