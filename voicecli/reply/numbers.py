"""Numbers said as words ("one hundred and five", "three point two") turned into digits.

Why: Whisper writes some numbers as digits and some as words, and people say both; the skills
only ever see digits after ``words_to_digits``.
"""

from __future__ import annotations

import re

UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
UNITS["oh"] = 0
TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 2
    )
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
NUMBER_WORDS = set(UNITS) | set(TENS) | set(SCALES)

_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[a-z]+(?:['’-][a-z]+)*|\S")


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _parse_words(words: list[str]) -> float | None:
    """Value of a run like ['one', 'hundred', 'and', 'five'] or None if it is not a number."""
    total, current, seen = 0, 0, False
    for word in words:
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in SCALES:
            total += (current or 1) * SCALES[word]
            current = 0
        elif word in ("and", "a"):
            continue
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def words_to_digits(text: str) -> str:
    """Lower-case ``text`` with every spoken number replaced by digits.

    "What is twelve times eight?" -> "what is 12 times 8 ?"; "two point five" -> "2.5";
    "1,000" -> "1000"; "twenty-one" -> "21".
    """
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        tokens.extend(token.split("-") if "-" in token and token[0].isalpha() else [token])
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] in NUMBER_WORDS or (tokens[i] == "a" and _next_is_scale(tokens, i)):
            j = i
            while j < len(tokens) and (
                tokens[j] in NUMBER_WORDS
                or (
                    tokens[j] == "and"
                    and j + 1 < len(tokens)
                    and tokens[j + 1] in NUMBER_WORDS
                    and _is_small(tokens[j + 1])
                    and _prev_is_scale(tokens, j)
                )
                or (tokens[j] == "a" and _next_is_scale(tokens, j))
            ):
                j += 1
            value = _parse_words(tokens[i:j])
            if j < len(tokens) - 1 and tokens[j] == "point" and tokens[j + 1] in UNITS:
                k = j + 1
                digits = ""
                while k < len(tokens) and tokens[k] in UNITS and UNITS[tokens[k]] < 10:
                    digits += str(UNITS[tokens[k]])
                    k += 1
                out.append(f"{_format(value)}.{digits}" if value is not None else tokens[i])
                i = k
                continue
            out.append(_format(value) if value is not None else tokens[i])
            i = j if value is not None else i + 1
        else:
            token = tokens[i]
            out.append(token.replace(",", "") if token[0].isdigit() else token)
            i += 1
    return " ".join(out)


def _next_is_scale(tokens: list[str], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1] in SCALES


def _prev_is_scale(tokens: list[str], i: int) -> bool:
    return i > 0 and tokens[i - 1] in SCALES


def _is_small(word: str) -> bool:
    return word in UNITS or word in TENS


def parse_number(text: str) -> float | None:
    """The single number in ``text`` ("forty two", "42", "3.5"), else None."""
    words = words_to_digits(text).split()
    if len(words) == 1:
        try:
            return float(words[0])
        except ValueError:
            return None
    return None


def say_number(value: float, places: int = 2) -> str:
    """A number as a reply should say it: 96, 16.09, -3.5 (no trailing zeros)."""
    rounded = round(value, places)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{places}f}".rstrip("0").rstrip(".")


_FRACTIONS = (  # applied in order, after words_to_digits ("one" is already "1")
    (re.compile(r"\b(\d+(?:\.\d+)?) and (?:a|1) half\b"), lambda m: float(m[1]) + 0.5),
    (re.compile(r"\b(\d+(?:\.\d+)?) and (?:a|1) quarter\b"), lambda m: float(m[1]) + 0.25),
    (re.compile(r"\b(\d+) quarters? of (?:a|an)\b"), lambda m: int(m[1]) / 4),
    (re.compile(r"\b(?:a |1 )?quarter of (?:a|an)\b"), lambda m: 0.25),
    (re.compile(r"\b(?:a |1 )?half (?:of )?(?:a|an)\b|\b(?:a|1) half\b"), lambda m: 0.5),
)
_AND_A_HALF = re.compile(r"\b(an?|\d+(?:\.\d+)?) ([a-z]+) and a half\b")  # "an hour and a half"


def words_to_quantities(text: str) -> str:
    """``words_to_digits`` plus the fractions said with units: "one and a half minutes" ->
    "1.5 minutes", "an hour and a half" -> "1.5 hour", "half a mile" -> "0.5 mile"."""
    out = _AND_A_HALF.sub(
        lambda m: f"{_format((1 if m[1][0] == 'a' else float(m[1])) + 0.5)} {m[2]}",
        words_to_digits(text),
    )
    for pattern, value in _FRACTIONS:
        out = pattern.sub(lambda m, value=value: _format(value(m)), out)
    return out
