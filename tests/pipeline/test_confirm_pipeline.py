"""Asking back through the real pipeline: Piper speech and real recordings decoded by tiny.en,
the decoder's confidence in the ``transcript`` event, the question, a spoken or typed "yes",
a question left unanswered (the confirmer's clock moved, not a 10 s sleep), typed turns."""

from __future__ import annotations

import json
import threading

import numpy as np
from support.pipeline import of_type, run_pipeline

from voicecli.audio.file import load_audio
from voicecli.audio.source import ArraySource, put_blocking
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.core.lifecycle import POLL_S
from voicecli.core.messages import EndOfInput
from voicecli.pipeline.pipeline import Pipeline
from voicecli.reply.confirm import SORRY, doubtful
from voicecli.reply.synth import compose, silence

PIPER = {"voice": "piper:joe", "rate": 175}


def always_doubtful() -> Config:
    """Every spoken turn doubtful: the path is tested whatever tiny.en's confidence."""
    config = Config()
    config.confirm.log_prob_below = 0.0
    return config


def finals(events: list, kind: str) -> list[str]:
    return [e.text for e in of_type(events, kind, final=True)]


def confirms(events: list) -> list[tuple[str, int | None]]:
    return [(e.state, e.turn) for e in of_type(events, "confirm")]


def test_a_spoken_request_is_asked_and_a_spoken_yes_carries_it_out(engines):
    audio = compose(
        0.5,
        "What is eight times three?",
        1.5,
        "Set a timer for five minutes.",
        1.5,
        "Yes.",
        1.5,
        **PIPER,
    )
    _pipeline, events = run_pipeline(engines, audio, config=always_doubtful(), linger_s=0.0)
    transcripts = of_type(events, "transcript", final=True)
    assert len(transcripts) == 3, finals(events, "transcript")
    for event in transcripts:
        assert event.avg_logprob is not None and event.avg_logprob <= 0
        assert 0 <= event.no_speech_prob <= 1
    assert finals(events, "reply") == [
        SORRY,  # a question heard with doubt is not guessed at
        "Set a timer for 5 minutes?",
        "Timer set for 5 minutes.",
    ]
    assert confirms(events) == [("asked", 2), ("confirmed", 3)]
    set_ = [e for e in of_type(events, "timer") if not e.fired and not e.cancelled]
    assert [e.due_in_s for e in set_] == [300]


class HeldSource(ArraySource):
    """Its audio fast, then the input held open (no EndOfInput) until ``release``: typed turns
    can follow the spoken ones."""

    def __init__(self, audio: np.ndarray) -> None:
        super().__init__(audio, realtime=False)
        self.released = threading.Event()

    def run(self, thread, out) -> None:
        class Withhold:
            def put(self, item, timeout=None) -> None:
                if not isinstance(item, EndOfInput):
                    out.put(item, timeout=timeout)

        super().run(thread, Withhold())
        while not self.released.is_set() and not thread.wait(POLL_S):
            pass
        put_blocking(thread, out, EndOfInput())


class Conversation:
    """A pipeline on a held Piper request, with its events as they come."""

    def __init__(self, engines, spoken: str) -> None:
        self.source = HeldSource(compose(0.5, spoken, 1.5, **PIPER))
        bus = EventBus()
        self.sub = bus.subscribe(100_000, "test")
        self.pipeline = Pipeline(
            config=always_doubtful(),
            engines=engines,
            source=self.source,
            bus=bus,
            fast=True,
            system_interval_s=None,
            linger_s=0.0,
        )
        self.events: list = []

    def wait_for(self, kind: str, timeout: float = 60.0, **match):
        """Read events until one of ``kind`` with ``match`` arrives."""
        while True:
            event = self.sub.get(timeout=timeout)
            assert event is not None, f"no {kind} {match} within {timeout} s: {self.events}"
            self.events.append(event)
            if event.type == kind and all(getattr(event, k) == v for k, v in match.items()):
                return event

    def finish(self) -> list:
        self.source.released.set()
        assert self.pipeline.wait(60)
        assert self.pipeline.close()
        while (event := self.sub.get(timeout=0)) is not None:
            self.events.append(event)
        return self.events


def test_a_typed_yes_confirms_a_spoken_request_and_typed_turns_are_never_asked(engines):
    chat = Conversation(engines, "Cancel all timers.")
    chat.pipeline.submit_text("set a timer for ten minutes")  # typed: never asked
    chat.pipeline.start()
    try:
        asked = chat.wait_for("confirm", state="asked")
        assert asked.question == "Cancel all timers?"
        chat.pipeline.submit_text("yes")
        chat.wait_for("confirm", state="confirmed")
        cancelled = chat.wait_for("timer", cancelled=True)
    finally:
        events = chat.finish()
    assert cancelled.label == "10 minute"
    assert confirms(events) == [("asked", 2), ("confirmed", 3)]
    assert finals(events, "reply")[-1] == "The 10 minute timer is cancelled."
    typed = [e for e in of_type(events, "transcript", final=True) if e.turn in (1, 3)]
    assert [e.avg_logprob for e in typed] == [None, None]


def test_an_unanswered_question_expires_after_10_s_on_the_confirmers_clock(engines):
    chat = Conversation(engines, "Cancel all timers.")
    chat.pipeline.submit_text("set a timer for ten minutes")
    clock = chat.pipeline.confirm.now
    later = [0.0]
    chat.pipeline.confirm.now = lambda: clock() + later[0]  # injected: no 10 s sleep
    chat.pipeline.start()
    try:
        chat.wait_for("confirm", state="asked")
        # not yet expired: it replaces it. The listener may still consume the clip's trailing
        # silence (up to ~1.2 s of pipeline clock) before the responder screens this turn
        later[0] = 8.0
        chat.pipeline.submit_text("what is two plus two")
        chat.wait_for("confirm", state="expired", turn=3)
        chat.pipeline.submit_text("Cancel all timers.")  # typed: done at once
        chat.wait_for("timer", cancelled=True)
    finally:
        events = chat.finish()
    assert confirms(events) == [("asked", 2), ("expired", 3)]


def test_an_idle_question_expires_by_itself(engines):
    chat = Conversation(engines, "Cancel all timers.")
    chat.pipeline.submit_text("set a timer for ten minutes")
    clock = chat.pipeline.confirm.now
    later = [0.0]
    chat.pipeline.confirm.now = lambda: clock() + later[0]
    chat.pipeline.start()
    try:
        chat.wait_for("confirm", state="asked")
        later[0] = 10.0
        expired = chat.wait_for("confirm", state="expired")
        chat.pipeline.submit_text("yes")  # too late: nothing is pending
        chat.wait_for("reply", final=True, turn=3)
    finally:
        events = chat.finish()
    assert expired.turn is None
    assert finals(events, "reply")[-1] != "The 10 minute timer is cancelled."
    assert [e.label for e in of_type(events, "timer", cancelled=True)] == ["10 minute"]  # at end


def test_real_recordings_are_judged_by_their_own_confidence(engines, shared_audio):
    """Real people at the default threshold (the real commands, "yes" and "no"): each turn's
    treatment follows its transcript's confidence, and these clean recordings are neither
    asked back nor refused."""
    folder = shared_audio / "real" / "utterances"
    truth = json.loads((folder / "truth.json").read_text())
    names = sorted(n for n, label in truth.items() if label["kind"] == "command")
    names += ["sc_yes.flac", "sc_no.flac"]
    parts = [silence(0.5)]
    for name in names:
        parts += [load_audio(folder / name), silence(2.0)]
    config = Config()
    _pipeline, events = run_pipeline(engines, np.concatenate(parts), config=config)
    transcripts = of_type(events, "transcript", final=True)
    assert len(transcripts) == len(names), finals(events, "transcript")
    replies = {e.turn: e.text for e in of_type(events, "reply", final=True)}
    doubted = [t for t in transcripts if doubtful(config.confirm, t.avg_logprob, t.no_speech_prob)]
    for event in transcripts:
        if event in doubted:
            assert replies[event.turn] == SORRY or of_type(events, "confirm", turn=event.turn)
        else:
            assert replies[event.turn] != SORRY
    assert doubted == [], [(t.text, t.avg_logprob, t.no_speech_prob) for t in doubted]
