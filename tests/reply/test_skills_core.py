"""The built-in skills of the offline pipeline: arithmetic, the time, recall, fallback."""

from __future__ import annotations

import time

import pytest

from voicecli.reply.brain import FALLBACK, EchoBrain, SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.numbers import say_number, words_to_digits
from voicecli.reply.skills import arithmetic, clock_time, recall


def reply(text: str, conversation: Conversation | None = None) -> str:
    return "".join(SkillsBrain().reply(text, SkillContext(conversation or Conversation())))


@pytest.mark.parametrize(
    "spoken, digits",
    [
        ("What is twelve times eight?", "what is 12 times 8 ?"),
        ("one hundred and five", "105"),
        ("three thousand two hundred and one", "3201"),
        ("twenty-one", "21"),
        ("two point five", "2.5"),
        ("a hundred", "100"),
        ("1,000 divided by 4", "1000 divided by 4"),
        ("a cat and a dog", "a cat and a dog"),
    ],
)
def test_words_to_digits(spoken, digits):
    assert words_to_digits(spoken) == digits


@pytest.mark.parametrize(
    "question, answer",
    [
        ("What is twelve times eight?", "96"),
        ("What is 12 times 8?", "96"),
        ("what's 7 x 6", "42"),
        ("What is two plus three times four?", "14"),
        ("How much is one hundred divided by eight?", "12.5"),
        ("What is 15% of 80?", "12"),
        ("What is the square root of sixty four?", "8"),
        ("What is five minus seven?", "-2"),
        ("What is two to the power of ten?", "1024"),
    ],
)
def test_arithmetic(question, answer):
    text = arithmetic.answer(question)
    assert text is not None and text.endswith(f" is {answer}.")


def test_arithmetic_refuses_what_it_cannot_do():
    assert arithmetic.answer("What is ten divided by zero?") == "I can't divide by zero."
    assert arithmetic.answer("What is the weather in Lisbon?") is None
    assert arithmetic.answer("What is twelve?") is None
    assert arithmetic.answer("What is 2 to the power of 1000?").startswith("That number")


@pytest.mark.parametrize(
    "question", ["What time is it?", "what's the time", "Tell me the time please.", "Time?"]
)
def test_time(question):
    moment = time.mktime((2026, 11, 24, 16, 7, 0, 0, 0, -1))
    text = clock_time.answer(question, SkillContext(Conversation(), clock=lambda: moment))
    assert text == "It's 4:07 PM."


def test_time_ignores_other_questions():
    assert clock_time.answer("What is twelve times eight?", SkillContext(Conversation())) is None


def test_recall_answers_the_previous_user_turn():
    conversation = Conversation()
    context = SkillContext(conversation)
    assert recall.answer("What did I just ask?", context).startswith("You haven't")
    conversation.add("What is twelve times eight?", "12 times 8 is 96.")
    assert recall.answer("what did I just ask", context) == (
        "You asked: What is twelve times eight?"
    )
    assert recall.answer("What was my last question?", context).endswith("eight?")


def test_brain_order_fallback_and_echo():
    assert reply("What is twelve times eight?").endswith("96.")
    assert reply("Tell me a joke about penguins.") == FALLBACK
    assert "".join(EchoBrain().reply("hello there", SkillContext(Conversation()))) == "hello there"


def test_conversation_history_is_bounded():
    conversation = Conversation(max_turns=3)
    for i in range(10):
        conversation.add(f"q{i}", f"a{i}")
    assert [e.user for e in conversation.history] == ["q7", "q8", "q9"]


def test_say_number():
    assert say_number(96.0) == "96"
    assert say_number(16.0934) == "16.09"
    assert say_number(-3.5) == "-3.5"
