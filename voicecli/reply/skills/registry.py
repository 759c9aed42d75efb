"""The skills that answer questions, in the order they are tried.

Why apart from ``__init__``: ``help`` describes these, and the package lists ``help`` after
them; with the list here both import it and nothing imports back.
"""

from __future__ import annotations

from types import ModuleType

from voicecli.reply.skills import (
    arithmetic,
    calendar_date,
    clock_time,
    recall,
    repeat,
    stop,
    system_status,
    timers,
    units,
)

ANSWERING: tuple[ModuleType, ...] = (recall, clock_time, arithmetic, system_status)
ANSWERING += (calendar_date, units, timers, repeat, stop)
