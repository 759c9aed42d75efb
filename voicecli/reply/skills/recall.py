"""Recall: "what did I just ask?" -> the previous user turn of this conversation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "recall"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("what did I ask",)

_ASKS = re.compile(
    r"\bwhat (?:did|was it) i (?:just )?(?:ask|say|said)\b|\bwhat was my (?:last |previous )?"
    r"(?:question|request)\b|\brepeat my (?:last )?question\b|\bwhat did i ask\b"
)


def answer(text: str, context: SkillContext) -> str | None:
    if not _ASKS.search(text.lower()):
        return None
    previous = context.conversation.last_user()
    if previous is None:
        return "You haven't asked me anything yet."
    return f"You asked: {previous.strip()}"
