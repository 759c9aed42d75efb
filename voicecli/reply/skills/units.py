"""Unit conversion: "how many kilometers are in ten miles" -> "10 miles is 16.1 kilometers."

Why a table and not a library: five kinds of quantity (length, mass, volume, speed,
temperature) cover what people ask a kitchen or desk assistant, and exact factors fit on one
screen. Volumes are US customary. A request needs two units of the same kind and a quantity
(digits, words, "a", "half a") right before one of them: that one is converted to the other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voicecli.reply.numbers import say_number, words_to_digits, words_to_quantities

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "units"
HELP = "convert units"
EXAMPLE = "how many kilometers are in ten miles"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = (
    "kilometers",
    "miles",
    "meters",
    "feet",
    "kilograms",
    "pounds",
    "liters",
    "cups",
    "Celsius",
    "Fahrenheit",
)


@dataclass(frozen=True)
class Unit:
    name: str
    plural: str
    kind: str
    factor: float  # base units (m, kg, l, m/s, K) in one of these
    offset: float = 0.0  # temperature: base = value * factor + offset

    def to_base(self, value: float) -> float:
        return value * self.factor + self.offset

    def from_base(self, value: float) -> float:
        return (value - self.offset) / self.factor

    def called(self, value: float) -> str:
        return self.name if abs(value) == 1 else self.plural


_F = 5 / 9
# (singular, plural, kind, factor, offset, other names)
_TABLE = (
    ("millimeter", "millimeters", "length", 0.001, 0, "mm"),
    ("centimeter", "centimeters", "length", 0.01, 0, "cm"),
    ("meter", "meters", "length", 1.0, 0, "m"),
    ("kilometer", "kilometers", "length", 1000.0, 0, "km|kilometre|kilometres|kms"),
    ("inch", "inches", "length", 0.0254, 0, ""),
    ("foot", "feet", "length", 0.3048, 0, "ft|feet"),
    ("yard", "yards", "length", 0.9144, 0, "yd|yds"),
    ("mile", "miles", "length", 1609.344, 0, "mi"),
    ("nautical mile", "nautical miles", "length", 1852.0, 0, ""),
    ("milligram", "milligrams", "mass", 1e-6, 0, "mg"),
    ("gram", "grams", "mass", 0.001, 0, "g|gramme|grammes"),
    ("kilogram", "kilograms", "mass", 1.0, 0, "kg|kgs|kilo|kilos"),
    ("metric ton", "metric tons", "mass", 1000.0, 0, "tonne|tonnes"),
    ("ounce", "ounces", "mass", 0.028349523125, 0, "oz"),
    ("pound", "pounds", "mass", 0.45359237, 0, "lb|lbs"),
    ("stone", "stone", "mass", 6.35029318, 0, "stones"),
    ("ton", "tons", "mass", 907.18474, 0, ""),
    ("milliliter", "milliliters", "volume", 0.001, 0, "ml"),
    ("centiliter", "centiliters", "volume", 0.01, 0, "cl"),
    ("liter", "liters", "volume", 1.0, 0, "l"),
    ("cubic meter", "cubic meters", "volume", 1000.0, 0, ""),
    ("teaspoon", "teaspoons", "volume", 0.00492892159375, 0, "tsp"),
    ("tablespoon", "tablespoons", "volume", 0.01478676478125, 0, "tbsp"),
    ("fluid ounce", "fluid ounces", "volume", 0.0295735295625, 0, "fl oz|ounce|ounces|oz"),
    ("cup", "cups", "volume", 0.2365882365, 0, ""),
    ("pint", "pints", "volume", 0.473176473, 0, ""),
    ("quart", "quarts", "volume", 0.946352946, 0, ""),
    ("gallon", "gallons", "volume", 3.785411784, 0, ""),
    ("meter per second", "meters per second", "speed", 1.0, 0, "m/s"),
    (
        "kilometer per hour",
        "kilometers per hour",
        "speed",
        1 / 3.6,
        0,
        "km/h|kmh|kph|kilometers an hour|kilometres per hour|kilometres an hour",
    ),
    ("mile per hour", "miles per hour", "speed", 0.44704, 0, "mph|miles an hour"),
    ("knot", "knots", "speed", 1852 / 3600, 0, "kt|kts"),
    ("foot per second", "feet per second", "speed", 0.3048, 0, ""),
    (
        "degree Celsius",
        "degrees Celsius",
        "temperature",
        1.0,
        273.15,
        "celsius|centigrade|°c|degrees c|degree c|degrees centigrade",
    ),
    (
        "degree Fahrenheit",
        "degrees Fahrenheit",
        "temperature",
        _F,
        459.67 * _F,
        "fahrenheit|°f|degrees f|degree f",
    ),
    ("kelvin", "kelvin", "temperature", 1.0, 0, "kelvins|degrees kelvin"),
)
UNITS = tuple(Unit(s, p, kind, factor, offset) for s, p, kind, factor, offset, _ in _TABLE)
_DEGREES = "degree|degrees|°"  # a temperature without its scale: the other one of C and F


def _key(phrase: str) -> tuple[str, ...]:
    """A name as the text will show it after normalising ("km/h" -> ("km", "/", "h"))."""
    return tuple(_normalise(phrase).split())


def _aliases() -> dict[tuple[str, ...], list[Unit]]:
    table: dict[tuple[str, ...], list[Unit]] = {}
    for unit, row in zip(UNITS, _TABLE, strict=True):
        names = {unit.name, unit.plural, *filter(None, row[5].split("|"))}
        names |= {n.replace("meter", "metre").replace("liter", "litre") for n in names}
        for name in names:
            table.setdefault(_key(name), []).append(unit)
    celsius_or_fahrenheit = [
        u for u in UNITS if u.plural in ("degrees Celsius", "degrees Fahrenheit")
    ]
    for name in _DEGREES.split("|"):
        table.setdefault(_key(name), celsius_or_fahrenheit)
    return table


def _normalise(text: str) -> str:
    words = words_to_digits(text)
    words = re.sub(r"(?<!\d)[?!.,;:]+|[?!.,;:]+(?!\d)", " ", words)
    words = re.sub(r"\b(?:minus|negative)\s+(?=\d)|(?<![\d.])-\s+(?=\d)", "-", words)
    return " ".join(words.split())


_ALIASES = _aliases()
_LONGEST = max(len(key) for key in _ALIASES)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?$")


@dataclass
class _Mention:
    units: list[Unit]
    amount: float | None  # the quantity said right before it, if any


def _mentions(words: list[str]) -> list[_Mention]:
    found, i = [], 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            units = _ALIASES.get(tuple(words[i : i + size]))
            if units:
                before = words[i - 1] if i else ""
                amount = 1.0 if before in ("a", "an") else None
                if _NUMBER.match(before):
                    amount = float(before)
                found.append(_Mention(units, amount))
                i += size
                break
        else:
            i += 1
    return found


def _pick(source: _Mention, target: _Mention) -> tuple[Unit, Unit] | None:
    """The reading of two mentions that makes sense: same kind, different units first."""
    pairs = [(a, b) for a in source.units for b in target.units if a.kind == b.kind]
    pairs.sort(key=lambda pair: pair[0] is pair[1])
    return pairs[0] if pairs else None


def round_result(value: float) -> float:
    """Three significant figures for small results, one decimal from ten up."""
    size = abs(value)
    if size >= 10:
        return round(value, 1)
    if size >= 1 or size == 0:
        return round(value, 2)
    return round(value, 2 - math.floor(math.log10(size)))


def convert(value: float, source: Unit, target: Unit) -> float:
    return target.from_base(source.to_base(value))


def answer(text: str, context: SkillContext | None = None) -> str | None:
    normal = _normalise(words_to_quantities(_normalise(text)))
    mentions = _mentions(normal.split())
    if len(mentions) != 2:
        return None
    first, second = mentions
    if first.amount is not None:
        source, target = first, second
    elif second.amount is not None:
        source, target = second, first
    else:
        return None
    pair = _pick(source, target)
    if pair is None:
        return None
    unit_from, unit_to = pair
    amount = source.amount
    result = round_result(convert(amount, unit_from, unit_to))
    return (
        f"{say_number(amount)} {unit_from.called(amount)} is "
        f"{say_number(result, 6)} {unit_to.called(result)}."
    )
