"""Live conversation on real sounddevice streams: virtual PulseAudio microphone and speaker.

A question spoken into the virtual microphone (``paplay --device=vmicfeed``) must come out as
the right transcript and reply, and the reply must be heard on the virtual speaker (recorded
from ``vspeaker.monitor`` and transcribed). Mute and push-to-talk keep the microphone closed.
"""

from __future__ import annotations

import json
import queue
import time

import pytest
from support.pulse import LiveRun, digits, speaker_recording, stop_recording
from support.schema import validate_event
from support.wake import chimed

from voicecli.audio.chime import RATE as CHIME_RATE
from voicecli.audio.chime import chime_tone
from voicecli.audio.file import load_audio, write_wav
from voicecli.audio.mic import MicSource
from voicecli.audio.speaker import SpeakerSink
from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.synth import compose

pytestmark = [pytest.mark.slow, pytest.mark.live]


@pytest.fixture(scope="session")
def question(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "two_plus_two.wav"
    write_wav(path, compose(0.3, "What is two plus two?", 0.5), 16000)
    return path


def test_spoken_question_is_answered_and_heard_on_the_speaker(engines, pulse, question, tmp_path):
    recording = tmp_path / "speaker.wav"
    recorder = pulse.record_speaker(recording)
    try:
        with LiveRun(engines, pulse) as run:
            run.say(question).wait(10)
            assert run.wait_for(lambda e: e.type == "playback" and e.state == "stopped", 20)
            run.settle(0.5)
    finally:
        stop_recording(recorder)
    transcripts = run.of_type("transcript", final=True)
    assert [digits(t.text) for t in transcripts] == ["what is 2 plus 2"]
    assert run.of_type("reply", final=True)[0].text == "2 plus 2 is 4."
    levels = run.of_type("level")
    assert max(e.rms_db for e in levels) > -40, "the level meter saw the question"
    assert not run.of_type("warning"), "no capture overflow"
    for event in run.events:
        validate_event(json.loads(event.to_json()))  # docs/events.md's schema
    heard = engines.stt.transcribe_full(load_audio(recording), vad_filter=True).text
    words = digits(heard).split()  # "2 plus 2 is 4." at the TTS's 175 words a minute
    assert "plus" in words and len(words) >= 4, heard


def test_muted_microphone_hears_nothing(engines, pulse, question):
    with LiveRun(engines, pulse) as run:
        run.audio.source.toggle_mute()
        run.say(question).wait(10)
        run.settle(1.5)
        assert not run.of_type("speech_start")
        run.audio.source.toggle_mute()
        run.say(question).wait(10)
        assert run.wait_for(lambda e: e.type == "transcript" and e.final, 10)
    states = [e.muted for e in run.of_type("mic")]
    assert states == [False, True, False]


def test_push_to_talk_listens_only_while_toggled_on(engines, pulse, question):
    with LiveRun(engines, pulse, push_to_talk=True) as run:
        run.say(question).wait(10)
        run.settle(1.5)
        assert not run.of_type("speech_start"), "closed until space is pressed"
        run.audio.source.toggle_talk()
        run.say(question).wait(10)
        final = run.wait_for(lambda e: e.type == "transcript" and e.final, 10)
    assert final is not None and "2 plus 2" in digits(final.text)


def test_live_source_drops_and_reports_when_the_listener_stalls(pulse):
    """A stalled consumer never blocks capture: frames are dropped, counted and reported."""
    events: list = []
    source = MicSource(emit=events.append)
    stalled: queue.Queue = queue.Queue(1)  # nobody reads it
    thread = ManagedThread("mic", source.run, stalled).start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e.type == "warning" for e in events):
            time.sleep(0.05)
    finally:
        assert thread.stop_and_join()
    warnings = [e for e in events if e.type == "warning"]
    assert warnings and warnings[0].code == "capture_overflow" and warnings[0].count > 0
    assert source.dropped >= warnings[0].count


def test_hands_free_speaker_stands_by_in_silence_and_wakes_for_a_sound(engines, pulse, tmp_path):
    """``standby_after_s``: the stream stops itself once nothing has played for that long; the
    chime, then a reply, start it again and are heard whole."""
    recording = tmp_path / "speaker.wav"
    sink = SpeakerSink(standby_after_s=0.3, source_rate=SAMPLE_RATE)
    try:
        with speaker_recording(pulse, recording):
            deadline = time.monotonic() + 5
            while not sink.standing_by and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sink.standing_by, "the stream never stood by in silence"
            sink.cue(chime_tone(), CHIME_RATE)
            assert not sink.standing_by
            time.sleep(1.0)  # played, then 0.3 s of silence: standing by again
            assert sink.standing_by
            reply = (compose(0.1, "Two plus two is four.", 0.1) * 32767).astype("int16")
            sink.write(reply)
            assert sink.end_reply() is None  # played to its end, not cut
    finally:
        sink.close()
    assert chimed(recording)
    heard = engines.stt.transcribe_full(load_audio(recording), vad_filter=True).text
    assert "4" in digits(heard), heard
