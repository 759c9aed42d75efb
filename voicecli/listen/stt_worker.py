"""The one STT worker: a ManagedThread that runs transcriptions one at a time.

Why one worker: whisper saturates both cores of our machines, so two transcriptions in flight
only make both late. Final (end-of-speech) jobs always go before partials; sessions take turns
(round robin) so one busy session cannot starve another; a newer job from the same session and
kind replaces a queued one, and a cancelled job is skipped. Each result goes back as a typed
``Transcription`` message on the queue the job names (``reply_to``), never through a callback
on the worker's thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from voicecli.core.lifecycle import IDLE_WAIT_S, ManagedThread
from voicecli.core.messages import Transcription
from voicecli.listen.stt import SpeechToText

FINAL, PARTIAL = "final", "partial"
_ids = itertools.count(1)


class ReplyTo(Protocol):
    """Where a job's ``Transcription`` goes: a stage's ``queue.Queue``, or an adapter that
    hands it to an event loop (the Wyoming server's)."""

    def put(self, item: Transcription) -> None: ...


@dataclass
class SttJob:
    audio: np.ndarray
    kind: str  # FINAL (speculative end-of-speech transcription) or PARTIAL
    session: str
    reply_to: ReplyTo
    prompt: str = ""  # the recognition bias the decoder is conditioned on ("" : none)
    id: int = field(default_factory=lambda: next(_ids))
    submitted: float = field(default_factory=time.monotonic)
    _cancelled: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class SttWorker:
    """Owns the STT thread; ``submit`` from any thread, results arrive on ``job.reply_to``."""

    def __init__(self, engine: SpeechToText, on_error: Callable | None = None) -> None:
        self.engine = engine
        self._pending: OrderedDict[tuple[str, str], SttJob] = OrderedDict()
        self._cond = threading.Condition()
        self._last_session: str | None = None
        self._busy = False
        self._thread = ManagedThread("stt", self._loop, on_error=on_error)

    def start(self) -> SttWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        return self._thread.stop_and_join(timeout)

    @property
    def thread(self) -> ManagedThread:
        return self._thread

    @property
    def busy(self) -> bool:
        """True while a transcription runs or waits: partials are skipped under load."""
        with self._cond:
            return self._busy or bool(self._pending)

    def submit(self, job: SttJob) -> SttJob:
        with self._cond:
            old = self._pending.pop((job.session, job.kind), None)
            if old is not None:
                old.cancel()
            if job.kind == FINAL:  # the final supersedes any queued partial of the session
                partial = self._pending.pop((job.session, PARTIAL), None)
                if partial is not None:
                    partial.cancel()
            self._pending[(job.session, job.kind)] = job
            self._cond.notify_all()
        return job

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _next_job(self) -> SttJob | None:
        """Finals first; within a kind, the first session after the last one served."""
        for kind in (FINAL, PARTIAL):
            keys = [k for k in self._pending if k[1] == kind]
            if not keys:
                continue
            sessions = [k[0] for k in keys]
            choice = keys[0]
            if self._last_session in sessions:
                after = sessions.index(self._last_session) + 1
                choice = keys[after % len(keys)]
            return self._pending.pop(choice)
        return None

    def _loop(self, thread: ManagedThread) -> None:
        thread.on_stop(self._notify)
        while not thread.should_stop():
            with self._cond:
                job = self._next_job()
                if job is None:
                    self._cond.wait(IDLE_WAIT_S)  # a job or stop notifies
                    continue
                self._busy = True
                self._last_session = job.session
            result = error = None
            try:
                if not job.cancelled:
                    # a partial never takes the slow full-window fallback: the final may be
                    # waiting behind it
                    result = self.engine.transcribe(
                        job.audio, allow_fallback=job.kind == FINAL, prompt=job.prompt
                    )
            except Exception as exc:  # one bad job fails that job only (fatal:false upstream)
                error = exc
            finally:
                with self._cond:
                    self._busy = False
            if not job.cancelled:
                job.reply_to.put(
                    Transcription(
                        job_id=job.id,
                        kind=job.kind,
                        text=result.text.strip() if result is not None else "",
                        finished=time.monotonic(),
                        compute_ms=result.compute_ms if result is not None else None,
                        error=error,
                        avg_logprob=result.avg_logprob if result is not None else None,
                        no_speech_prob=result.no_speech_prob if result is not None else None,
                    )
                )
