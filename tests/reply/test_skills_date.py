"""Date skill: the date, the day of the week, tomorrow and yesterday, the month and year."""

from __future__ import annotations

import time

import pytest

from voicecli.reply.brain import SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import calendar_date

MOMENT = time.mktime((2026, 3, 3, 16, 7, 0, 0, 0, -1))  # Tuesday, 3 March 2026, local time


def ask(question: str) -> str | None:
    return calendar_date.answer(question, SkillContext(Conversation(), clock=lambda: MOMENT))


@pytest.mark.parametrize(
    "question",
    [
        "What's the date today?",
        "What is today's date?",
        "What day is it today?",
        "what day of the week is it",
        "What date is it?",
        "Tell me the date.",
        "what is the date",
        "Date?",
    ],
)
def test_today(question):
    assert ask(question) == "Today is Tuesday, March 3, 2026."


@pytest.mark.parametrize(
    "question, expected",
    [
        ("What day is it tomorrow?", "Tomorrow is Wednesday, March 4, 2026."),
        ("what's the date tomorrow", "Tomorrow is Wednesday, March 4, 2026."),
        ("What was the date yesterday?", "Yesterday was Monday, March 2, 2026."),
        ("What year is it?", "It's 2026."),
        ("which month is it", "It's March."),
    ],
)
def test_other_days_month_and_year(question, expected):
    assert ask(question) == expected


def test_month_ends_roll_over():
    last_day = time.mktime((2026, 12, 31, 12, 0, 0, 0, 0, -1))
    text = calendar_date.answer(
        "what day is it tomorrow", SkillContext(Conversation(), clock=lambda: last_day)
    )
    assert text == "Tomorrow is Friday, January 1, 2027."


@pytest.mark.parametrize(
    "question",
    ["What time is it?", "What is the date of the meeting?", "What is twelve times eight?"],
)
def test_not_a_date_question(question):
    assert ask(question) is None


def test_the_brain_answers_with_the_real_date_and_the_time_skill_keeps_time():
    today = time.localtime()
    text = "".join(SkillsBrain().reply("What's the date today?", SkillContext(Conversation())))
    assert text == f"Today is {time.strftime('%A, %B', today)} {today.tm_mday}, {today.tm_year}."
    assert "".join(
        SkillsBrain().reply("What time is it?", SkillContext(Conversation()))
    ).startswith("It's ")
