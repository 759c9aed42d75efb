"""Timers skill: setting (numbers as words and digits, names), listing and cancelling timers on
a real TimerBoard driven by a real (sample-counting) pipeline clock."""

from __future__ import annotations

import pytest

from voicecli.reply.brain import SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import timers as skill


def ask(board, text: str) -> str | None:
    return skill.answer(text, SkillContext(Conversation(), timers=board))


@pytest.mark.parametrize(
    "request_, reply, seconds, label",
    [
        ("Set a timer for five minutes.", "Timer set for 5 minutes.", 300, "5 minute"),
        ("Set a timer for 2 seconds", "Timer set for 2 seconds.", 2, "2 second"),
        ("set a five minute timer", "Timer set for 5 minutes.", 300, "5 minute"),
        ("set a 10-minute timer please", "Timer set for 10 minutes.", 600, "10 minute"),
        (
            "Timer for ninety seconds",
            "Timer set for 1 minute 30 seconds.",
            90,
            "1 minute 30 second",
        ),
        (
            "start a timer for one and a half minutes",
            "Timer set for 1 minute 30 seconds.",
            90,
            "1 minute 30 second",
        ),
        (
            "set a timer for an hour and a half",
            "Timer set for 1 hour 30 minutes.",
            5400,
            "1 hour 30 minute",
        ),
        ("set a timer for half an hour", "Timer set for 30 minutes.", 1800, "30 minute"),
        (
            "set a timer for two hours and fifteen minutes",
            "Timer set for 2 hours 15 minutes.",
            8100,
            "2 hour 15 minute",
        ),
        ("Set a pasta timer for ten minutes.", "Pasta timer set for 10 minutes.", 600, "pasta"),
        ("set a timer for 3 minutes called eggs", "Eggs timer set for 3 minutes.", 180, "eggs"),
        (
            "set a timer for twenty minutes for the laundry",
            "Laundry timer set for 20 minutes.",
            1200,
            "laundry",
        ),
    ],
)
def test_set(board, request_, reply, seconds, label):
    assert ask(board, request_) == reply
    [timer] = board.running()
    assert timer.duration_s == seconds and timer.label == label
    [event] = board.events
    assert (event.type, event.label, event.due_in_s, event.fired, event.cancelled) == (
        "timer",
        label,
        seconds,
        False,
        False,
    )


@pytest.mark.parametrize(
    "request_, reply",
    [
        ("set a timer", "How long should the timer run?"),
        ("set a timer for thirty hours", "I can set timers from one second up to 24 hours."),
        ("set a timer for zero seconds", "I can set timers from one second up to 24 hours."),
        ("set a timer for half a second", "I can set timers from one second up to 24 hours."),
    ],
)
def test_set_refuses_what_it_cannot_time(board, request_, reply):
    assert ask(board, request_).startswith(reply)
    assert board.running() == []


def test_list_counts_down_on_the_pipeline_clock(board):
    assert ask(board, "What timers are running?") == "No timers are running."
    ask(board, "set a pasta timer for ten minutes")
    ask(board, "set a timer for two minutes")
    board.advance(30)
    assert ask(board, "What timers are running?") == (
        "2 timers are running. The 2 minute timer has 1 minute 30 seconds left. "
        "The pasta timer has 9 minutes 30 seconds left."
    )
    assert ask(board, "how much time is left on the pasta timer?") == (
        "The pasta timer has 9 minutes 30 seconds left."
    )
    for phrasing in ("list my timers", "which timers are running", "How much time is left?"):
        assert ask(board, phrasing).startswith("2 timers are running.")


def test_fire_announces_and_emits(board):
    ask(board, "Set a timer for two seconds.")
    board.advance(1.9)
    assert board.notices == []
    board.advance(0.2)
    assert board.notices == ["Your 2 second timer is done."]
    fired = board.events[-1]
    assert (fired.fired, fired.cancelled, fired.due_in_s, fired.label) == (
        True,
        False,
        0.0,
        "2 second",
    )
    assert fired.t == pytest.approx(2.1, abs=0.05)
    assert board.running() == []


@pytest.mark.parametrize(
    "request_",
    [
        "Please cancel the timer.",
        "cancel the timer",
        "Stop the timer.",
        "delete my timer",
        "turn off the timer",
    ],
)
def test_cancel_the_only_timer(board, request_):
    ask(board, "set a timer for five minutes")
    board.advance(60)
    assert ask(board, request_) == "The 5 minute timer is cancelled."
    cancelled = board.events[-1]
    assert cancelled.cancelled and not cancelled.fired
    assert cancelled.due_in_s == pytest.approx(240, abs=0.1)
    board.advance(300)
    assert board.notices == []


def test_cancel_by_name_and_all(board):
    ask(board, "set a pasta timer for ten minutes")
    ask(board, "set an egg timer for 4 minutes")
    ask(board, "set a timer for five minutes")
    assert ask(board, "cancel the timer").startswith("There are 3 timers: egg, 5 minute and pasta.")
    assert ask(board, "Cancel the pasta timer.") == "The pasta timer is cancelled."
    assert ask(board, "cancel the five minute timer") == "The 5 minute timer is cancelled."
    assert ask(board, "cancel the rice timer") == "I couldn't find a rice timer. Running: egg."
    ask(board, "set a timer for 1 minute")
    assert ask(board, "cancel all timers") == "All 2 timers are cancelled."
    assert ask(board, "cancel the timer") == "There are no timers running."
    assert [e.label for e in board.events if e.cancelled] == [
        "pasta",
        "5 minute",
        "1 minute",
        "egg",
    ]


def test_without_a_board_timers_are_refused_politely():
    assert (
        skill.answer("set a timer for 5 minutes", SkillContext(Conversation()))
        == "I can't run timers here."
    )
    assert skill.answer("What is twelve times eight?", SkillContext(Conversation())) is None


def test_the_brain_routes_timer_requests(board):
    context = SkillContext(Conversation(), timers=board)
    reply = "".join(SkillsBrain().reply("Set a timer for two seconds.", context))
    assert reply == "Timer set for 2 seconds."
    assert len(board.running()) == 1
