"""The responder alone (the fast stage layer): typed messages in, events and answered markers
out, in order, with the real TTS and a sink that plays in real time."""

from __future__ import annotations

import time

from support.stages import ResponderStage

from voicecli.core.messages import (
    KEY,
    Announcement,
    EndOfInput,
    EndOfUtterance,
    Interrupt,
    UserTurn,
)
from voicecli.reply.brain import Brain


def kinds(log: list) -> list[str]:
    """Events by type (``reply`` split by final) and markers by class."""
    out = []
    for entry in log:
        kind = getattr(entry, "type", type(entry).__name__)
        if kind == "reply":
            kind += ".final" if entry.final else ".part"
        elif kind == "playback":
            kind += "." + entry.state
        out.append(kind)
    return out


def test_turns_announcements_and_markers_in_order(engines):
    stage = ResponderStage(engines).start()
    stage.put(
        UserTurn(number=1, text="what is two plus two", typed=True, wall_turn=time.monotonic()),
        EndOfUtterance(),
        Announcement("Your tea timer is done."),
        EndOfInput(),
    )
    log = stage.finish()
    assert kinds(log) == [
        "reply.part",
        "playback.started",
        "reply.final",
        "playback.stopped",
        "turn_metrics",
        "EndOfUtterance",  # answered after the turn's reply was heard
        "reply.part",
        "playback.started",
        "reply.final",
        "playback.stopped",
        "EndOfInput",
    ]
    replies = [e for e in log if getattr(e, "type", "") == "reply" and e.final]
    assert [(r.turn, r.text) for r in replies] == [
        (1, "2 plus 2 is 4."),
        (None, "Your tea timer is done."),
    ]
    assert stage.responder.conversation.last_reply == "Your tea timer is done."
    assert stage.sink.heard_s > 1.0


class SlowStory(Brain):
    """A long answer, one sentence every 50 ms (the pace of a language model)."""

    def reply(self, text, context):
        for number in range(1, 41):
            time.sleep(0.05)
            yield f"This is sentence {number} of the story. "


def test_an_interrupt_cuts_the_reply_once_and_the_next_turn_is_answered(engines):
    stage = ResponderStage(engines, brain=SlowStory()).start()
    stage.put(UserTurn(number=1, text="tell me a story", typed=True))
    stage.wait_for("playback", turn=1, state="started")
    asked = time.monotonic()
    assert stage.line.interrupt(Interrupt(KEY)) is True
    assert stage.sink.silent_at - asked < 0.5  # target 100 ms
    assert stage.line.interrupt(Interrupt(KEY)) is False  # nothing left to stop
    stage.put(UserTurn(number=2, text="tell me another", typed=True))
    stage.wait_for("playback", turn=2, state="started")
    stage.line.interrupt(Interrupt(KEY))
    log = stage.finish()
    playback = [(e.turn, e.state) for e in log if getattr(e, "type", "") == "playback"]
    assert playback == [(1, "started"), (1, "cut"), (2, "started"), (2, "cut")]
    story = [e.text for e in log if getattr(e, "type", "") == "reply" and e.final and e.turn == 1]
    assert story and story[0].count("sentence") < 40  # generation stopped
