"""Built-in skills: exact, offline answers, tried in order before anything else.

A skill is a module with a ``NAME`` and an ``answer(text, context) -> str | None`` function
(None: not mine; "": mine, and nothing to say -- "stop"); ``context`` is the conversation's
``SkillContext`` (reply.context: conversation, timers, thermal reading, clock). Adding one is
writing the module and listing it in ``registry``; a ``HELP`` phrase (and optional
``EXAMPLE``) puts it in "help". A skill that changes something (timers, stop) declares it with
``confirm_question(text, context) -> str | None``: the yes/no question asked instead of acting
when a spoken turn is doubtful (reply.confirm), None when that text changes nothing; its
``answer`` acts only when ``confirm_question`` gives a question. docs/skills.md is the reference.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from voicecli.reply.skills import help as help_skill
from voicecli.reply.skills.registry import ANSWERING

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext


class Skill(Protocol):
    NAME: str

    def answer(self, text: str, context: SkillContext) -> str | None: ...


SKILLS: tuple[ModuleType, ...] = (*ANSWERING, help_skill)
