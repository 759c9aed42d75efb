"""The date: "what's the date today?" -> "Today is Tuesday, March 4, 2025." (local time).

Also the day of the week, "tomorrow" and "yesterday", the month and the year.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "date"
HELP = "tell the date"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("date", "today", "tomorrow")

_ASKS_DATE = re.compile(
    r"\b(?:what(?:'s| is| was| will be)?|tell me) (?:the |today's |tomorrow's |yesterday's )?"
    r"date\b(?! (?:of|for|on|when)\b)|"
    r"\b(?:today's|tomorrow's|yesterday's|the current) date\b|"
    r"\b(?:what|which) day (?:of the week )?(?:is|was|will) (?:it|today|tomorrow|yesterday)\b|"
    r"\bwhat day of the (?:week|month)\b|\bwhat(?:'s| is) (?:today|tomorrow)\b|"
    r"\bwhat day is it\b|^(?:the )?date\W*$"
)
_ASKS_MONTH = re.compile(r"\bwhat month is it\b|\bwhich month is it\b")
_ASKS_YEAR = re.compile(r"\bwhat year is it\b|\bwhich year is it\b")
_OFFSETS = {"tomorrow": (1, "Tomorrow is"), "yesterday": (-1, "Yesterday was")}


def say_date(day: datetime.date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def answer(text: str, context: SkillContext) -> str | None:
    words = text.lower().strip()
    today = datetime.datetime.fromtimestamp(context.clock()).date()
    if _ASKS_YEAR.search(words):
        return f"It's {today.year}."
    if _ASKS_MONTH.search(words):
        return f"It's {today:%B}."
    if not _ASKS_DATE.search(words):
        return None
    for word, (days, lead) in _OFFSETS.items():
        if re.search(rf"\b{word}\b", words):
            return f"{lead} {say_date(today + datetime.timedelta(days=days))}."
    return f"Today is {say_date(today)}."
