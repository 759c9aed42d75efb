"""The ``confirm`` event in ``chat --plain`` and in the dashboard's header."""

from __future__ import annotations

import io

from rich.console import Console

from voicecli.cli.controls import Controls
from voicecli.cli.dashboard import Dashboard
from voicecli.cli.printer import format_plain
from voicecli.core.events import ConfirmEvent

ASKED = ConfirmEvent(
    t=2.0, turn=2, state="asked", text="cancel all timers", question="Cancel all timers?"
)


def test_plain_lines_say_what_was_asked_and_what_came_of_it():
    assert format_plain(ASKED) == (
        '[   2.00] confirm: asked before acting: Cancel all timers? (heard "cancel all timers")'
    )
    expired = ConfirmEvent(t=12.0, state="expired", text=ASKED.text, question=ASKED.question)
    assert format_plain(expired) == '[  12.00] confirm: no answer: dropped: "cancel all timers"'


def header(board: Dashboard) -> str:
    console = Console(file=io.StringIO(), width=200, height=40, record=True)
    console.print(board.render())
    return console.export_text().splitlines()[0]


def test_the_dashboard_header_shows_the_pending_question():
    console = Console(file=io.StringIO(), width=200, height=40)
    board = Dashboard(Controls(submit_text=lambda text: None), console=console)
    assert "asked" not in header(board)
    board.handle(ASKED)
    assert "asked before acting: Cancel all timers?" in header(board)
    board.handle(ConfirmEvent(t=3.0, turn=3, state="confirmed", text=ASKED.text, question="x"))
    assert 'yes: done: "cancel all timers"' in header(board)
