"""Repeat: "say that again" -> the assistant's last reply (or timer notice), word for word."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "repeat"
HELP = "repeat what I said"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("say that again",)

_ASKS = re.compile(
    r"\brepeat (?:that|this|it|yourself|what you (?:just )?said|the last (?:answer|reply|thing))\b|"
    r"\bsay (?:that|it) again\b|\bcome again\b|\bwhat did you (?:just )?say\b|"
    r"\bi didn'?t (?:catch|hear|get) (?:that|you|it)\b|^(?:pardon|sorry|what|huh)\W*$|"
    r"^(?:can you |could you |please )*repeat(?: please)?\W*$"
)


def answer(text: str, context: SkillContext) -> str | None:
    if not _ASKS.search(text.lower().strip()):
        return None
    return context.conversation.last_reply or "I haven't said anything yet."
