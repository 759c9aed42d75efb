"""The everyday skills through the real pipeline: espeak-ng questions, tiny.en, the skills."""

from __future__ import annotations

import datetime

from support.pipeline import of_type, run_pipeline

from voicecli.reply.synth import compose


def test_spoken_conversions_and_date(engines):
    audio = compose(
        0.5,
        "How many kilometers are in ten miles?",
        1.5,
        "Seventy two degrees fahrenheit in celsius.",
        1.5,
        "Tell me the date.",
        1.0,
    )
    before = datetime.date.today()
    _, events = run_pipeline(engines, audio)
    after = datetime.date.today()
    heard = [e.text for e in of_type(events, "transcript", final=True)]
    replies = [e.text for e in of_type(events, "reply", final=True)]
    assert len(replies) == 3, (heard, replies)
    assert replies[0] in ("10 miles is 16.1 kilometers.", "10 miles is 16 kilometers."), heard
    assert replies[1] in (
        "72 degrees Fahrenheit is 22.2 degrees Celsius.",
        "72 degrees Fahrenheit is 22 degrees Celsius.",
    ), heard
    dates = {f"Today is {d:%A}, {d:%B} {d.day}, {d.year}." for d in (before, after)}
    assert replies[2] in dates, heard
