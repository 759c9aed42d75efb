"""Word error rate, with the one text normaliser every measurement in voicecli uses.

Why one normaliser: a WER number means nothing unless both sides were cleaned the same way.
We use ``whisper-normalizer``'s ``EnglishTextNormalizer`` (the rules OpenAI's Whisper paper
scored with: lower case, no punctuation, spelled-out numbers to digits, "what's" -> "what is",
British to American spelling, fillers such as "uh"/"hmm" dropped) and count word edits with
``jiwer``. The reference and the hypothesis go through the same function, for every method.
A corpus WER is total edits over total reference words, not a mean of per-utterance rates.

Before that, written forms that a listener hears as the same words are made one
(``_WRITTEN_FORMS``): Whisper writes "seven forty five" as "745" and the clock time "7:45" is
read the same; "5 km" is "5 kilometers"; "1000-1" is "1000 minus 1"; "29 November" is
"the 29th of November". Without these a reply heard word for word counted as misheard.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_UNITS = {
    "km": "kilometer",
    "kg": "kilogram",
    "cm": "centimeter",
    "mm": "millimeter",
    "mi": "mile",
    "lb": "pound",
    "lbs": "pound",
    "oz": "ounce",
    "ft": "foot",
}
_WRITTEN_FORMS = (
    (re.compile(r"\b(\d{1,2}):(\d{2})\b"), r"\1\2"),  # 7:45 -> 745, as Whisper writes it
    (re.compile(r"(\d)\s*-\s*(\d)"), r"\1 minus \2"),  # 1000-1 -> 1000 minus 1
    (  # the 29th of November / 29th November -> 29 November
        re.compile(rf"\b(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MONTHS})\b", re.I),
        r"\1 \2",
    ),
)
_UNIT = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(" + "|".join(_UNITS) + r")\b", re.IGNORECASE)


def _unit(match: re.Match[str]) -> str:
    """5 km -> 5 kilometers, 1 km -> 1 kilometer (feet: foot/feet)."""
    number, word = match.group(1), _UNITS[match.group(2).lower()]
    if number == "1":
        return f"{number} {word}"
    return f"{number} {'feet' if word == 'foot' else word + 's'}"


def _written_forms(text: str) -> str:
    for pattern, spoken in _WRITTEN_FORMS:
        text = pattern.sub(spoken, text)
    return _UNIT.sub(_unit, text)


@functools.cache
def _normalizer():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """The comparable form of ``text``: see the module docstring for the rules."""
    return " ".join(_normalizer()(_written_forms(text)).split())


@dataclass(frozen=True)
class WordErrors:
    """Edits (substitutions + deletions + insertions) against a reference of ``words`` words."""

    errors: int
    words: int

    @property
    def rate(self) -> float:
        """Errors per reference word; an empty reference scores 0 if matched, else 1 per word."""
        if self.words == 0:
            return float(self.errors)
        return self.errors / self.words

    def __add__(self, other: WordErrors) -> WordErrors:
        return WordErrors(self.errors + other.errors, self.words + other.words)


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """Word edits needed to turn the normalised hypothesis into the normalised reference."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return WordErrors(errors=len(hyp.split()), words=0)
    import jiwer

    out = jiwer.process_words(ref, hyp)
    return WordErrors(out.substitutions + out.deletions + out.insertions, len(ref.split()))


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """WER over (reference, hypothesis) pairs: total edits / total reference words."""
    total = sum((word_errors(ref, hyp) for ref, hyp in pairs), WordErrors(0, 0))
    return total.errors / total.words if total.words else float(total.errors > 0)
