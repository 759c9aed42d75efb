"""Reply fixtures: a real TimerBoard on a sample-counting pipeline clock."""

from __future__ import annotations

import pytest

from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.clock import PipelineClock
from voicecli.reply.timers import TimerBoard


@pytest.fixture
def board() -> TimerBoard:
    """The board keeps what it emits in ``board.events`` and what it announces in
    ``board.notices``; ``board.advance(seconds)`` feeds that much audio time and checks."""
    clock = PipelineClock(live=False)
    events, notices = [], []
    board = TimerBoard(clock, events.append, notices.append)
    board.events, board.notices, board.clock_ = events, notices, clock

    def advance(seconds: float) -> None:
        clock.advance(int(seconds * SAMPLE_RATE))
        board.check()

    board.advance = advance
    return board
