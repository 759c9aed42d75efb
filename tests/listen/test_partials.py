"""Speculative and partial transcription: dropped when speech resumes, never after the final."""

from __future__ import annotations

import pytest
from support.pipeline import of_type, run_pipeline

from voicecli.listen.stt_worker import FINAL, SttWorker
from voicecli.reply.synth import compose


class Tee:
    """A job's reply queue that also keeps what the worker answered."""

    def __init__(self, target, seen: list) -> None:
        self.target, self.seen = target, seen

    def put(self, transcription) -> None:
        self.seen.append(transcription)
        self.target.put(transcription)


class RecordingWorker(SttWorker):
    """The real STT worker, remembering every job it was given and every answer."""

    def __init__(self, engine):
        super().__init__(engine)
        self.jobs = []
        self.answers = []

    def submit(self, job):
        self.jobs.append(job)
        job.reply_to = Tee(job.reply_to, self.answers)
        return super().submit(job)


def test_a_speculative_result_is_dropped_when_speech_resumes(engines):
    worker = RecordingWorker(engines.stt).start()
    try:
        audio = compose(0.5, "Could you tell me the weather in", 0.45, "Lisbon tomorrow.", 1.5)
        _, events = run_pipeline(engines, audio, stt_worker=worker)
    finally:
        assert worker.stop()
    finals = [j for j in worker.jobs if j.kind == FINAL]
    assert len(finals) >= 2  # one at the pause, one at the end
    assert finals[0].cancelled  # the pause's transcription was thrown away
    transcripts = of_type(events, "transcript", final=True)
    assert len(transcripts) == 1
    assert "tomorrow" in transcripts[0].text.lower()
    first = [a.text for a in worker.answers if a.job_id == finals[0].id]
    assert not first or first[0] != transcripts[0].text


@pytest.mark.slow
def test_partials_arrive_while_speaking_and_never_after_the_final(engines):
    audio = compose(
        0.5,
        "Could you please tell me what the weather will be like in Lisbon tomorrow afternoon?",
        1.0,
        "What time is it?",
        1.0,
    )
    _, events = run_pipeline(engines, audio, fast=False)
    transcripts = of_type(events, "transcript")
    for turn in (1, 2):
        final_index = next(i for i, e in enumerate(transcripts) if e.final and e.turn == turn)
        after = [e for e in transcripts[final_index + 1 :] if e.turn == turn]
        assert after == [], "a partial arrived after the turn's final"
    first_turn = [e for e in transcripts if e.turn == 1 and not e.final]
    assert len(first_turn) >= 3, [e.text for e in first_turn]
    # partials come while the user is still speaking: before the turn's last speech_end
    last_end = max(e.t for e in of_type(events, "speech_end", turn=1))
    assert sum(e.t < last_end for e in first_turn) >= 2


def test_fast_input_makes_no_partials(engines):
    audio = compose(0.5, "Could you please tell me what the weather will be like tomorrow?", 1.0)
    _, events = run_pipeline(engines, audio, fast=True)
    assert of_type(events, "transcript", final=False) == []
    assert len(of_type(events, "transcript", final=True)) == 1
