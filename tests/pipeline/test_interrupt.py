"""One interrupt path, one test per caller in the pipeline: a typed "stop", the ``s`` key and a
short "stop" heard over the reply each cut playback (target 100 ms; allowed 500 ms) and
``playback`` cut is emitted exactly once. (Barge-in through the echo guard: the live tests in
tests/audio/test_live_echo.py; the server's ``interrupt`` and ``connect``'s cut:
tests/server/test_server_interrupt.py.)"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np
from support.brains import StoryBrain
from support.stages import PlayingSink

from voicecli.audio.source import ArraySource
from voicecli.cli.chat_ui import chat_controls
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.core.messages import ShortWord
from voicecli.pipeline.pipeline import Pipeline
from voicecli.reply.synth import compose

ALLOWED_S = 0.5  # the target is 100 ms


class Run:
    def __init__(self, pipeline: Pipeline, sink: PlayingSink, sub) -> None:
        self.pipeline, self.sink, self.sub = pipeline, sink, sub
        self.events: list = []

    def wait_for(self, kind: str, timeout: float = 20.0, **match):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.type == kind and all(getattr(event, k) == v for k, v in match.items()):
                    return event
            event = self.sub.get(timeout=0.01)
            if event is not None:
                self.events.append(event)
        raise AssertionError(f"no {kind} {match} within {timeout} s")

    def settle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            event = self.sub.get(timeout=min(left, 0.05))
            if event is not None:
                self.events.append(event)

    def of(self, kind: str, **match) -> list:
        return [
            e
            for e in self.events
            if e.type == kind and all(getattr(e, k) == v for k, v in match.items())
        ]


@contextlib.contextmanager
def telling_a_story(engines, listening: bool = False) -> Iterator[Run]:
    """A pipeline playing a long reply (turn 1) into a real-time sink. ``listening``: a live
    silent source feeds the listener (for words heard over the reply)."""
    bus = EventBus()
    sub = bus.subscribe(100_000, "test")
    sink = PlayingSink()
    source = ArraySource(np.zeros(16000 * 60, np.float32)) if listening else None
    pipeline = Pipeline(
        config=Config(),
        engines=engines,
        source=source,
        bus=bus,
        sink=sink,
        brain=StoryBrain(),
        system_interval_s=None,
    ).start()
    run = Run(pipeline, sink, sub)
    try:
        pipeline.submit_text("Tell me a long story.")
        run.wait_for("playback", turn=1, state="started")
        run.settle(0.3)  # well into the reply
        assert sink.playing
        yield run
    finally:
        assert pipeline.close()


def report(record_property, caller: str, seconds: float) -> None:
    ms = round(seconds * 1000, 1)
    record_property(f"interrupt_ms_{caller}", ms)
    print(f"interrupt latency {caller}: {ms} ms")
    assert seconds < ALLOWED_S, f"{caller}: playback stopped after {ms} ms"


def assert_cut_once(run: Run) -> None:
    run.wait_for("reply", turn=1, final=True)
    run.settle(0.3)
    assert len(run.of("playback", state="cut")) == 1
    assert len(run.of("playback", turn=1, state="cut")) == 1
    assert not run.of("playback", turn=1, state="stopped")
    assert not run.sink.playing
    story = run.of("reply", turn=1, final=True)[0].text
    assert story.count("sentence") < 60  # generation stopped


def test_a_typed_stop(engines, record_property):
    with telling_a_story(engines) as run:
        asked = time.monotonic()
        run.pipeline.submit_text("Stop.")
        report(record_property, "typed_stop", run.sink.silent_at - asked)
        assert_cut_once(run)
        run.wait_for("reply", turn=2, final=True)
    assert run.of("reply", turn=2, final=True)[0].text == ""
    assert not run.of("playback", turn=2)  # nothing said for "stop"


def test_the_s_key(engines, record_property):
    with telling_a_story(engines) as run:
        controls = chat_controls(run.pipeline, None, typing_allowed=False)
        asked = time.monotonic()
        controls.on_key("s")
        report(record_property, "s_key", run.sink.silent_at - asked)
        assert_cut_once(run)


def test_a_short_stop_heard_over_the_reply(engines, record_property):
    """The echo guard's short word goes to the listener, is transcribed and, saying "stop",
    interrupts: ``barge_in`` carries the word and the time from its capture to silence (the
    transcription included); the cut itself is measured from the transcript's arrival."""
    word = compose(0.05, "Stop.", 0.05)
    with telling_a_story(engines, listening=True) as run:
        captured = time.monotonic()
        assert run.pipeline.hear(ShortWord(word, wall=captured))
        barge_in = run.wait_for("barge_in", timeout=10)
        assert_cut_once(run)
    assert "stop" in barge_in.text.lower()
    assert barge_in.stop_ms == round((run.sink.silent_at - captured) * 1000, 1)
    print(f"short stop: {barge_in.stop_ms} ms from the word's capture (transcription included)")
    record_property("short_stop_from_capture_ms", barge_in.stop_ms)
    assert len(run.of("transcript")) == 1  # the typed turn: a word over the reply is not one
