"""Built-in skills: exact, offline answers, tried in order before anything else.

A skill is a module with a ``NAME`` and an ``answer(text, conversation) -> str | None``
function (None: not mine; "": mine, and nothing to say -- "stop"). Adding one is writing the
module and listing it in ``registry``; a ``HELP`` phrase (and optional ``EXAMPLE``) puts it in
"help".
"""

from __future__ import annotations

from types import ModuleType
from typing import Protocol

from voicecli.reply.skills import help as help_skill
from voicecli.reply.skills.registry import ANSWERING


class Skill(Protocol):
    NAME: str

    def answer(self, text: str, conversation: object) -> str | None: ...


SKILLS: tuple[ModuleType, ...] = (*ANSWERING, help_skill)
