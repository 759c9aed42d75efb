"""Repeat, stop and help skills."""

from __future__ import annotations

import pytest

from voicecli.reply.brain import FALLBACK, SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import SKILLS, repeat, stop
from voicecli.reply.skills import help as help_skill


def reply(text: str, conversation: Conversation) -> str:
    return "".join(SkillsBrain().reply(text, SkillContext(conversation)))


@pytest.mark.parametrize(
    "request_",
    [
        "Repeat that.",
        "Please repeat that.",
        "Say that again.",
        "Can you repeat that?",
        "What did you just say?",
        "Sorry, I didn't catch that.",
        "Pardon?",
        "come again",
    ],
)
def test_repeat_says_the_last_reply_again(request_):
    conversation = Conversation()
    assert repeat.answer(request_, SkillContext(conversation)) == "I haven't said anything yet."
    conversation.add("How many kilometers are in ten miles?", "10 miles is 16.1 kilometers.")
    assert repeat.answer(request_, SkillContext(conversation)) == "10 miles is 16.1 kilometers."


def test_repeat_through_the_brain_twice_and_after_a_silent_stop():
    conversation = Conversation()
    conversation.add("what is two plus two", "2 plus 2 is 4.")
    for _ in range(2):
        said = reply("say that again", conversation)
        assert said == "2 plus 2 is 4."
        conversation.add("say that again", said)
    conversation.add("stop", reply("stop", conversation))
    assert reply("repeat that", conversation) == "2 plus 2 is 4."


def test_repeat_includes_a_timer_notice():
    conversation = Conversation()
    conversation.add("set a timer for two seconds", "Timer set for 2 seconds.")
    conversation.last_reply = "Your 2 second timer is done."  # what Responder.announce records
    assert (
        repeat.answer("repeat that", SkillContext(conversation)) == "Your 2 second timer is done."
    )


@pytest.mark.parametrize(
    "request_",
    [
        "Stop.",
        "stop",
        "Stop talking!",
        "OK stop.",
        "Please stop.",
        "Be quiet.",
        "shut up",
        "That's enough.",
        "Never mind.",
        "stop it please",
    ],
)
def test_stop_is_understood_and_says_nothing(request_):
    assert stop.is_stop(request_)
    assert stop.answer(request_, SkillContext(Conversation())) == ""
    assert reply(request_, Conversation()) == ""


@pytest.mark.parametrize(
    "request_", ["Stop the timer.", "stop at the bakery on the way", "don't stop", "Bus stop"]
)
def test_stop_only_takes_a_whole_request(request_):
    assert not stop.is_stop(request_)
    assert stop.answer(request_, SkillContext(Conversation())) is None


@pytest.mark.parametrize(
    "request_",
    [
        "Help.",
        "help me",
        "What can you do?",
        "What else can you do for me?",
        "What can I ask you?",
        "How does this work?",
        "OK, help please.",
    ],
)
def test_help_lists_every_skill_with_examples(request_):
    text = help_skill.answer(request_, SkillContext(Conversation()))
    for phrase in (
        "tell the time",
        "tell the date",
        "convert units",
        "run timers",
        "do arithmetic",
        "repeat what I said",
        "stop talking",
    ):
        assert phrase in text
    assert "how many kilometers are in ten miles" in text
    assert "set a timer for five minutes" in text


def test_help_mentions_a_newly_registered_skill():
    class Weather:
        NAME = "weather"
        HELP = "read the weather forecast"
        EXAMPLE = "will it rain tomorrow"

    text = help_skill.describe((*SKILLS, Weather))
    assert "and read the weather forecast." in text


def test_help_ignores_other_requests_and_the_fallback_points_to_it():
    assert (
        help_skill.answer("help me convert 5 miles to kilometers", SkillContext(Conversation()))
        is None
    )
    assert reply("Tell me a joke about penguins.", Conversation()) == FALLBACK
    assert "Say help" in FALLBACK and "timers" in FALLBACK and "convert units" in FALLBACK
