"""Arithmetic said aloud: "what is twelve times eight" -> "12 times 8 is 96."

Why a small parser and not eval: the words come from a microphone; only numbers and the
operators below are accepted, with the usual precedence.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from voicecli.reply.numbers import say_number, words_to_digits

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "arithmetic"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("plus", "minus", "times", "divided by", "square root", "percent", "squared")

# Longest phrases first: each becomes one operator token.
_OPERATORS = [
    ("to the power of", "^"),
    ("raised to", "^"),
    ("multiplied by", "*"),
    ("divided by", "/"),
    ("percent of", "%of"),
    ("% of", "%of"),
    ("square root of", "sqrt"),
    ("times", "*"),
    ("x", "*"),
    ("×", "*"),
    ("*", "*"),
    ("plus", "+"),
    ("+", "+"),
    ("minus", "-"),
    ("-", "-"),
    ("over", "/"),
    ("/", "/"),
    ("÷", "/"),
    ("squared", "sq"),
    ("cubed", "cube"),
]
_SAY = {
    "*": "times",
    "/": "divided by",
    "+": "plus",
    "-": "minus",
    "^": "to the power of",
    "%of": "percent of",
    "sqrt": "the square root of",
    "sq": "squared",
    "cube": "cubed",
}
_LEAD = re.compile(
    r"^(?:hey |ok |okay |so |and |please )*(?:what(?:'s| is)|how much is|calculate|compute|"
    r"tell me|can you tell me|could you tell me|work out)\b\s*"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?$")


def _tokens(text: str) -> list[str] | None:
    words = words_to_digits(text)
    words = re.sub(r"[?!.,]+(?=\s|$)", " ", words).strip()
    words = _LEAD.sub("", words).strip()
    words = re.sub(r"^(?:the )?(?:result of |answer to )?", "", words)
    out: list[str] = []
    rest = words.split()
    while rest:
        for phrase, op in _OPERATORS:
            size = len(phrase.split())
            if rest[:size] == phrase.split():
                out.append(op)
                rest = rest[size:]
                break
        else:
            if not _NUMBER.match(rest[0]):
                return None
            out.append(rest.pop(0))
    has_op = any(not _NUMBER.match(t) for t in out)
    return out if out and has_op else None


class _Parser:
    """expr := term (('+'|'-') term)*; term := power (('*'|'/'|'%of') power)*;
    power := unary ('^' unary)*; unary := 'sqrt' unary | '-' unary | atom ('sq'|'cube')*"""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        self.i += 1
        return self.tokens[self.i - 1]

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.power()
        while self.peek() in ("*", "/", "%of"):
            op, right = self.take(), self.power()
            if op == "/" and right == 0:
                raise ZeroDivisionError
            value = (
                value * right if op == "*" else value / right if op == "/" else value * right / 100
            )
        return value

    def power(self) -> float:
        value = self.unary()
        while self.peek() == "^":
            self.take()
            exponent = self.unary()
            if abs(exponent) > 64:
                raise OverflowError
            value = value**exponent
        return value

    def unary(self) -> float:
        token = self.peek()
        if token == "sqrt":
            self.take()
            inner = self.unary()
            if inner < 0:
                raise ValueError
            return math.sqrt(inner)
        if token == "-":
            self.take()
            return -self.unary()
        if token is None or not _NUMBER.match(token):
            raise SyntaxError
        value = float(self.take())
        while self.peek() in ("sq", "cube"):
            value = value ** (2 if self.take() == "sq" else 3)
        return value


def evaluate(tokens: list[str]) -> float:
    parser = _Parser(tokens)
    value = parser.expr()
    if parser.peek() is not None:
        raise SyntaxError
    return value


def answer(text: str, context: SkillContext | None = None) -> str | None:
    tokens = _tokens(text)
    if tokens is None:
        return None
    spoken = " ".join(_SAY.get(t, say_number(float(t)) if _NUMBER.match(t) else t) for t in tokens)
    try:
        value = evaluate(tokens)
    except SyntaxError:
        return None
    except ZeroDivisionError:
        return "I can't divide by zero."
    except (OverflowError, ValueError):
        return "That number is too unusual for me to work out."
    if isinstance(value, complex) or not math.isfinite(value):
        return "That number is too unusual for me to work out."
    return f"{spoken} is {say_number(value)}."
