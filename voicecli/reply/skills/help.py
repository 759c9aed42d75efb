"""Help: "what can you do?" -> what the registered skills do, with two examples.

Why built from the registry: adding a skill is adding a module with a ``HELP`` phrase (and
optionally an ``EXAMPLE``) and listing it in ``registry``; help then mentions it without an
edit here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

from voicecli.reply.skills.registry import ANSWERING

NAME = "help"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("help", "what can you do")

_ASKS = re.compile(
    r"^(?:(?:hey|ok|okay|so|please|um)\s+)*(?:help(?: me)?(?: please)?|i need help|"
    r"what (?:else )?can you do(?: for me)?|what can i (?:ask|say)(?: you)?|"
    r"what do you do|how do(?:es)? (?:this|you) work|what are your (?:skills|commands)|"
    r"what (?:skills|commands) do you have|list (?:your )?(?:skills|commands)|"
    r"what can you help (?:me )?with)$"
)
_BUILT_IN = {  # skills registered before HELP existed
    "time": "tell the time",
    "arithmetic": "do arithmetic",
    "recall": "remind you what you asked",
    "system_status": "say how warm the processor is",
}


def describe(skills) -> str:
    abilities, examples = [], []
    for skill in skills:
        phrase = getattr(skill, "HELP", None) or _BUILT_IN.get(getattr(skill, "NAME", ""))
        if phrase and skill.NAME != NAME:
            abilities.append(phrase)
        if getattr(skill, "EXAMPLE", None):
            examples.append(skill.EXAMPLE)
    text = "I can " + ", ".join(abilities[:-1]) + ", and " + abilities[-1] + "."
    if examples:
        text += " Try: " + ", or ".join(examples[:2]) + "."
    return text


def answer(text: str, context: SkillContext) -> str | None:
    words = " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())
    if not _ASKS.match(words):
        return None
    return describe(ANSWERING)
