"""The time: "what time is it?" -> "It's 4:07 PM." (local time)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "time"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("what time is it",)

_ASKS = re.compile(
    r"\bwhat(?:'s| is)? (?:the )?time\b|\bwhat time is it\b|\btell me the time\b|"
    r"\b(?:current|the) time\b.*\?|\bwhat time\b.*\bnow\b|^time\W*$"
)


def say_time(moment: float) -> str:
    local = time.localtime(moment)
    hour = local.tm_hour % 12 or 12
    return f"{hour}:{local.tm_min:02d} {'AM' if local.tm_hour < 12 else 'PM'}"


def answer(text: str, context: SkillContext) -> str | None:
    if not _ASKS.search(text.lower().strip()):
        return None
    return f"It's {say_time(context.clock())}."
