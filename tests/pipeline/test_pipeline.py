"""The offline pipeline end to end: real speech, real VAD, real tiny.en, real TTS."""

from __future__ import annotations

import random
import re
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from support.pipeline import of_type, run_pipeline

from voicecli.audio.sink import AudioSink, FileSink
from voicecli.audio.source import ArraySource
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.core.errors import ExitStatus
from voicecli.listen.turn import plan
from voicecli.pipeline.pipeline import Pipeline
from voicecli.pipeline.runner import run_foreground
from voicecli.reply.brain import Brain, EchoBrain
from voicecli.reply.skills.clock_time import say_time
from voicecli.reply.synth import compose


def words(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower())


@pytest.fixture(scope="module")
def two_questions() -> np.ndarray:
    return compose(0.5, "What is twelve times eight?", 1.5, "What time is it?", 1.0)


def test_two_questions_make_two_turns_with_replies(engines, two_questions):
    before = time.time()
    _, events = run_pipeline(engines, two_questions)
    finals = of_type(events, "transcript", final=True)
    assert [e.turn for e in finals] == [1, 2]
    assert "12 times 8" in words(finals[0].text)
    assert "what time is it" in words(finals[1].text)
    replies = of_type(events, "reply", final=True)
    assert [e.turn for e in replies] == [1, 2]
    assert replies[0].text == "12 times 8 is 96."
    assert replies[1].text in {f"It's {say_time(before)}.", f"It's {say_time(time.time())}."}
    assert len(of_type(events, "turn_metrics")) == 2
    assert not of_type(events, "error")


def test_a_pause_after_a_function_word_does_not_end_the_turn(engines):
    audio = compose(0.5, "Could you tell me the weather in", 0.45, "Lisbon tomorrow.", 1.5)
    _, events = run_pipeline(engines, audio)
    finals = of_type(events, "transcript", final=True)
    assert len(finals) == 1, [e.text for e in finals]
    assert "tomorrow" in words(finals[0].text)
    # the pause was heard as a pause: two speech segments inside the one turn
    assert len(of_type(events, "speech_start", turn=1)) >= 2


def test_recall_answers_the_previous_question(engines):
    audio = compose(0.5, "What time is it?", 1.5, "What did I just ask?", 1.0)
    _, events = run_pipeline(engines, audio)
    replies = of_type(events, "reply", final=True)
    assert len(replies) == 2
    assert words(replies[1].text) == "you asked what time is it"


def test_reply_audio_in_output_file_says_the_answer(engines, two_questions, tmp_path):
    path = tmp_path / "replies.wav"
    _, events = run_pipeline(engines, two_questions, sink=FileSink(path))
    info = sf.info(str(path))
    assert info.samplerate == 22050 and info.channels == 1 and info.subtype == "PCM_16"
    from voicecli.audio.file import load_audio

    heard = words(engines.stt.transcribe(load_audio(path)).text)
    assert "96" in heard or "ninety six" in heard  # the answer to the first question
    # both replies are in it, in order, each followed by the documented 0.5 s gap
    replies = [e for e in events if e.type == "reply" and e.final]
    spoken = sum(len(engines.tts.synthesize(r.text)) for r in replies) / 22050
    assert info.duration == pytest.approx(spoken + 0.5 * len(replies), abs=0.3)


@pytest.mark.slow
def test_real_time_latencies_add_up_and_match_fast_mode(engines, two_questions):
    _, fast_events = run_pipeline(engines, two_questions, fast=True)
    start = time.monotonic()
    _, rt_events = run_pipeline(engines, two_questions, fast=False)
    assert time.monotonic() - start >= len(two_questions) / 16000 - 0.1  # really paced

    def turns(events):
        return [(e.turn, e.text) for e in of_type(events, "transcript", final=True)]

    assert turns(rt_events) == turns(fast_events)

    def replies(events):  # the clock may pass a minute between the two runs
        texts = [e.text for e in of_type(events, "reply", final=True)]
        return [re.sub(r"\d+:\d\d [AP]M", "<time>", t) for t in texts]

    assert replies(rt_events) == replies(fast_events)
    for m in of_type(rt_events, "turn_metrics"):
        fields = (
            "eos_to_transcript_ms",
            "turn_wait_ms",
            "reply_ms",
            "tts_first_audio_ms",
            "voice_to_voice_ms",
            "stt_compute_ms",
        )
        assert all(getattr(m, f) is not None for f in fields), m
        parts = m.turn_wait_ms + m.reply_ms + m.tts_first_audio_ms
        assert abs(m.voice_to_voice_ms - parts) <= 0.3
        assert m.turn_wait_ms >= 330  # never shorter than the shortest wait
    texts = dict(turns(fast_events))
    for m in of_type(fast_events, "turn_metrics"):
        assert m.eos_to_transcript_ms is None and m.voice_to_voice_ms is None
        # the planned wait (docs/turns.md) of this transcript and score, in 32 ms frames
        wait = plan(texts[m.turn], m.turn_probability, "combined", Config().turn).wait_s
        assert m.turn_wait_ms == pytest.approx(np.ceil(wait / 0.032 - 1e-6) * 32, abs=1)


class ExplodingSink(AudioSink):
    def write(self, pcm):
        raise OSError("disk full")


def test_a_stage_exception_is_one_fatal_error_and_a_clean_end(engines, two_questions):
    pipeline = Pipeline(
        config=Config(),
        engines=engines,
        bus=EventBus(),
        fast=True,
        source=ArraySource(two_questions, realtime=False),
        sink=ExplodingSink(),
    )
    seen = []
    status = run_foreground(pipeline, seen.append)
    assert status is ExitStatus.RUNTIME_FAILURE
    fatal = [e for e in seen if e.type == "error" and e.fatal]
    assert len(fatal) == 1 and "disk full" in fatal[0].message
    assert not pipeline.running


class FlakyBrain(Brain):
    def __init__(self):
        self.calls = 0

    def reply(self, text, conversation):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("skill bug")
        yield from EchoBrain().reply(text, conversation)


def test_a_failing_reply_is_not_fatal_and_the_next_turn_works(engines, two_questions):
    _, events = run_pipeline(engines, two_questions, brain=FlakyBrain())
    errors = of_type(events, "error")
    assert [(e.code, e.fatal, e.turn) for e in errors] == [("reply_failed", False, 1)]
    replies = of_type(events, "reply", final=True)
    assert replies[0].text.startswith("Sorry")
    assert "what time is it" in words(replies[1].text)


def test_typed_turns_have_no_speech_latencies(engines):
    bus = EventBus()
    sub = bus.subscribe(1000, "test")
    pipeline = Pipeline(
        config=Config(), engines=engines, bus=bus, source=None, system_interval_s=None
    ).start()
    pipeline.submit_text("what is six times seven")
    pipeline.end_input()
    assert pipeline.wait(30)
    assert pipeline.close()
    events = []
    while (e := sub.get(timeout=0)) is not None:
        events.append(e)
    assert of_type(events, "reply", final=True)[0].text == "6 times 7 is 42."
    metrics = of_type(events, "turn_metrics")[0]
    assert metrics.turn_wait_ms is None and metrics.voice_to_voice_ms is None
    assert metrics.reply_ms is not None and metrics.tts_first_audio_ms is not None


def test_100_start_stop_cycles_leave_no_thread(engines):
    clip = compose(0.2, "Hello there.", 0.5)
    baseline = {t.ident for t in threading.enumerate()}
    rng = random.Random(7)
    for _ in range(100):
        pipeline = Pipeline(
            config=Config(),
            engines=engines,
            bus=EventBus(),
            fast=True,
            source=ArraySource(clip, realtime=False),
            system_interval_s=0.05,
        )
        pipeline.start()
        pipeline.wait(rng.choice([0.0, 0.01, 0.05, 0.2]))
        assert pipeline.close(timeout=5.0)
    leftover = [t for t in threading.enumerate() if t.ident not in baseline]
    assert leftover == []
