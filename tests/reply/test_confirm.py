"""Asking back (reply.confirm) with the real skills and a real timer board: what is asked, what
"yes" and "no" do, the 10 s window on an injected clock, and typed turns never asked."""

from __future__ import annotations

import pytest

from voicecli.core.clock import PipelineClock
from voicecli.core.config import ConfirmConfig
from voicecli.core.messages import UserTurn
from voicecli.reply.brain import SkillsBrain
from voicecli.reply.confirm import SORRY, Confirmer, doubtful, question_for, yes_or_no
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import SKILLS
from voicecli.reply.timers import TimerBoard

DOUBTFUL = -1.5  # an average log-probability below the default threshold
SURE = -0.2


class Fixture:
    """A conversation with a real timer board, its confirmer on a clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self.events: list = []
        clock = PipelineClock(live=False)
        self.board = TimerBoard(clock, self.events.append, lambda text: None)
        self.context = SkillContext(Conversation(), timers=self.board)
        self.confirm = Confirmer(
            ConfirmConfig(), SKILLS, self.context, self.events.append, lambda: self.now
        )
        self.turns = 0

    def say(self, text: str, logprob: float = DOUBTFUL, typed: bool = False) -> str:
        """One turn through the confirmer and the skills brain: what is said back."""
        self.turns += 1
        turn = UserTurn(number=self.turns, text=text, typed=typed, avg_logprob=logprob)
        screened = self.confirm.screen(turn)
        brain = SkillsBrain()
        return "".join(screened.deltas(lambda t: brain.reply(t, self.context)))

    def confirms(self) -> list[tuple[str, int | None]]:
        return [(e.state, e.turn) for e in self.events if e.type == "confirm"]


@pytest.fixture
def chat() -> Fixture:
    return Fixture()


def test_a_doubtful_cancel_is_asked_and_yes_carries_it_out(chat):
    chat.say("set a pasta timer for ten minutes", SURE)
    assert chat.say("Cancel all timers.") == "Cancel all timers?"
    assert len(chat.board.running()) == 1  # not yet
    assert chat.say("Yes.") == "The pasta timer is cancelled."
    assert chat.board.running() == []
    assert chat.confirms() == [("asked", 2), ("confirmed", 3)]
    asked = next(e for e in chat.events if e.type == "confirm")
    assert (asked.text, asked.question) == ("Cancel all timers.", "Cancel all timers?")


def test_no_drops_the_request(chat):
    chat.say("set a timer for five minutes", SURE)
    assert chat.say("cancel the timer") == "Cancel the timer?"
    assert chat.say("No.") == "OK."
    assert len(chat.board.running()) == 1
    assert chat.confirms() == [("asked", 2), ("declined", 3)]


def test_a_doubtful_set_is_asked_with_what_was_understood(chat):
    assert chat.say("set a pasta timer for ten minutes") == "Set a pasta timer for 10 minutes?"
    assert chat.board.running() == []
    assert chat.say("yeah do it") == "Pasta timer set for 10 minutes."
    assert [t.label for t in chat.board.running()] == ["pasta"]


def test_the_question_expires_after_the_window_on_the_injected_clock(chat):
    chat.say("set a timer for five minutes", SURE)
    chat.now = 100.0
    chat.say("cancel all timers")
    chat.now = 109.9
    chat.confirm.expire()
    assert chat.confirms() == [("asked", 2)]
    chat.now = 110.0
    chat.confirm.expire()
    assert chat.confirms() == [("asked", 2), ("expired", None)]
    assert chat.say("yes", SURE) != "The 5 minute timer is cancelled."
    assert len(chat.board.running()) == 1


def test_another_request_replaces_the_question(chat):
    chat.say("set a timer for five minutes", SURE)
    chat.say("cancel all timers")
    assert chat.say("what is two plus three", SURE) == "2 plus 3 is 5."
    assert chat.confirms() == [("asked", 2), ("expired", 3)]
    assert len(chat.board.running()) == 1


def test_a_doubtful_question_is_not_guessed(chat):
    assert chat.say("what is two plus three") == SORRY
    assert chat.say("tell me a story") == SORRY
    assert chat.confirms() == []


def test_nothing_to_cancel_is_not_an_action(chat):
    assert chat.say("cancel all timers") == SORRY
    assert chat.confirms() == []


def test_typed_and_confident_turns_are_never_asked(chat):
    chat.say("set a timer for five minutes", DOUBTFUL, typed=True)
    assert len(chat.board.running()) == 1
    assert chat.say("cancel all timers", DOUBTFUL, typed=True) == "The 5 minute timer is cancelled."
    chat.say("set a timer for five minutes", SURE)
    assert chat.say("cancel all timers", SURE) == "The 5 minute timer is cancelled."
    assert chat.confirms() == []


def test_asking_can_be_switched_off(chat):
    chat.confirm.config = ConfirmConfig(enabled=False)
    chat.say("set a timer for five minutes")
    assert len(chat.board.running()) == 1
    assert chat.confirms() == []


@pytest.mark.parametrize(
    "text, question",
    [
        ("stop", "Should I stop?"),
        ("never mind", "Should I stop?"),
        ("what timers are running", None),
        ("set a timer for thirty hours", None),  # out of range: changes nothing
        ("set a timer", None),  # asks how long: changes nothing
        ("what is eight times three", None),
        ("cancel the pasta timer", "Cancel the pasta timer?"),
        ("set a timer for ninety seconds", "Set a timer for 1 minute 30 seconds?"),
    ],
)
def test_which_requests_act(chat, text, question):
    chat.say("set a pasta timer for ten minutes", SURE)
    assert question_for(SKILLS, text, chat.context) == question


@pytest.mark.parametrize(
    "text, answer",
    [
        ("Yes.", True),
        ("Yes, please.", True),
        ("Okay.", True),
        ("Go ahead.", True),
        ("No.", False),
        ("No, thanks.", False),
        ("Never mind.", False),
        ("Cancel all timers.", None),
        ("Yesterday.", None),
    ],
)
def test_yes_or_no(text, answer):
    assert yes_or_no(text) is answer


def test_doubtful_uses_both_measures():
    config = ConfirmConfig(log_prob_below=-1.0, no_speech_above=0.6)
    assert doubtful(config, -1.01, 0.1)
    assert doubtful(config, -0.2, 0.61)
    assert not doubtful(config, -0.99, 0.59)
    assert not doubtful(config, None, None)  # typed: nothing measured
