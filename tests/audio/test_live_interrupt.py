"""The one interrupt path on the real speaker (a PulseAudio virtual device): the ``s`` key and
a typed "stop" silence it within 500 ms (target 100 ms) and ``playback`` cut comes once."""

from __future__ import annotations

import time

import pytest
from support.pulse import LiveRun

from voicecli.cli.chat_ui import chat_controls

pytestmark = [pytest.mark.slow, pytest.mark.live]


@pytest.mark.parametrize("caller", ["s_key", "typed_stop"])
def test_the_speaker_falls_silent_at_once(engines, pulse, caller, record_property):
    with LiveRun(engines, pulse) as run:
        run.pipeline.submit_text("Tell me a story.")  # the long fallback answer
        assert run.wait_for(lambda e: e.type == "playback" and e.state == "started", 15)
        run.settle(1.0)  # well into the reply
        asked = time.monotonic()
        if caller == "s_key":
            chat_controls(run.pipeline, run.audio, typing_allowed=False).on_key("s")
        else:
            run.pipeline.submit_text("Stop.")
        assert run.wait_for(lambda e: e.type == "playback" and e.state != "started", 5)
        run.settle(1.0)
        silent_at = run.audio.speaker.silent_at
    assert silent_at is not None and silent_at >= asked
    ms = round((silent_at - asked) * 1000, 1)
    record_property(f"speaker_interrupt_ms_{caller}", ms)
    print(f"speaker silent after {caller}: {ms} ms")
    assert ms < 500, "playback stopped promptly (target 100 ms)"
    assert [p.turn for p in run.of_type("playback", state="cut")] == [1]  # exactly once
    assert not run.of_type("playback", state="stopped")
