"""System status: "how warm is the processor?" -> temperature, thermal state, load and memory.

Where the temperature comes from: the running ``ThermalMonitor``'s latest reading, which the
pipeline hands over in the ``SkillContext`` (``context.thermal()``); with no monitor running,
one reading taken now with the configured thermal settings. The whole answer is one sentence,
so thermal protection's "first sentence only" still says all of it. Temperatures are said in
words ("ninety degrees") for the voice.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from voicecli.core.errors import VoicecliError
from voicecli.reply.numbers import TENS, UNITS, say_number
from voicecli.thermal.monitor import ThermalStatus, read_status
from voicecli.thermal.state import HOT, NO_SENSOR, WARM

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "system_status"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("processor", "CPU", "temperature")

_THING = r"(?:processor|cpu|c\.?p\.?u|computer|machine|system|chip|laptop|raspberry pi)"
_ASKS = re.compile(
    rf"\b(?:how (?:warm|hot|cool)|temperature|temp)\b.*\b{_THING}\b"
    rf"|\b{_THING}(?:'s)? (?:temperature|temp|heat)\b"
    r"|\bhow (?:warm|hot) are you\b|\bsystem (?:status|health|load)\b"
    r"|\bthermal (?:status|state)\b|\b(?:are you|is it) (?:overheating|too hot)\b"
)
_ONES = {value: word for word, value in UNITS.items() if word != "oh"}
_TENS = {value: word for word, value in TENS.items()}


def spoken_integer(n: int) -> str:
    """0 -> "zero", 84 -> "eighty-four", -5 -> "minus five" (up to 999, digits beyond)."""
    if n < 0:
        return "minus " + spoken_integer(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n - n % 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = f" and {spoken_integer(n % 100)}" if n % 100 else ""
        return f"{_ONES[n // 100]} hundred{rest}"
    return str(n)


def _current(context: SkillContext | None) -> ThermalStatus:
    status = context.thermal() if context is not None else None
    if status is not None:
        return status
    from voicecli.core.config import ThermalConfig, load_config

    try:
        config = load_config().config.thermal
        return read_status(config)
    except VoicecliError:  # a bad config file or threshold: the defaults still read the sensor
        return read_status(ThermalConfig())


def _load_and_memory() -> str:
    import psutil

    try:
        load = f"load average {say_number(os.getloadavg()[0], 1)}"
    except (OSError, AttributeError):
        load = "load unknown"
    return f"{load} and memory {say_number(psutil.virtual_memory().percent, 0)} percent used"


def describe(status: ThermalStatus) -> str:
    if status.state == NO_SENSOR or status.temp_c is None:
        return f"There's no temperature sensor I can read; {_load_and_memory()}."
    heat = f"The processor is at {spoken_integer(round(status.temp_c))} degrees Celsius"
    if status.state == HOT:
        heat += ", which is hot, so I'm keeping answers short until it cools down"
    elif status.state == WARM:
        heat += ", which is warm"
    else:
        heat += ", which is normal"
    if status.throttled:
        heat += ", and it is being slowed down"
    return f"{heat}; {_load_and_memory()}."


def answer(text: str, context: SkillContext | None = None) -> str | None:
    if not _ASKS.search(text.lower()):
        return None
    return describe(_current(context))
