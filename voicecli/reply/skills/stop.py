"""Stop: "stop", "be quiet", "never mind", "cancel" -> say nothing, and cut the reply being spoken.

Why two parts: the skill answers in turn order (an empty reply: nothing is spoken), but the
reply to cut is the one being spoken *now*, so the pipeline checks ``is_stop`` on every
declared turn and interrupts the responder before queueing it (``Pipeline._deliver``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "stop"
HELP = "stop talking when you say stop"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("stop", "never mind")

_STOP = re.compile(
    r"^(?:(?:ok|okay|hey|please|oh|no|alright|all right|just)\s+)*"
    r"(?:stop(?: it| talking| speaking| that| now)?|be quiet|quiet|shut up|silence|hush|"
    r"enough|that's enough|that is enough|never ?mind|cancel(?: that| it)?|shh+)"
    r"(?:\s+(?:please|now|thanks|thank you))*$"
)


def is_stop(text: str) -> bool:
    words = " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())
    return bool(_STOP.match(words))


def answer(text: str, context: SkillContext) -> str | None:
    return "" if is_stop(text) else None


def confirm_question(text: str, context: SkillContext) -> str | None:
    """Stopping cuts the reply: a doubtful "stop" is asked about (reply.confirm)."""
    return "Should I stop?" if is_stop(text) else None
