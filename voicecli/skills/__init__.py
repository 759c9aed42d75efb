"""Built-in skills: exact, offline answers, tried in order before anything else.

A skill is a module with a ``NAME`` and an ``answer(text, conversation) -> str | None``
function (None: not mine). Adding one is writing the module and listing it here.
"""

from __future__ import annotations

from types import ModuleType
from typing import Protocol

from voicecli.skills import arithmetic, clock_time, recall, system_status


class Skill(Protocol):
    NAME: str

    def answer(self, text: str, conversation: object) -> str | None: ...


SKILLS: tuple[ModuleType, ...] = (recall, clock_time, arithmetic, system_status)
