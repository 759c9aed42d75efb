"""Word error rate, with the one text normaliser every measurement in voicecli uses.

Why one normaliser: a WER number means nothing unless both sides were cleaned the same way.
We use ``whisper-normalizer``'s ``EnglishTextNormalizer`` (the rules OpenAI's Whisper paper
scored with: lower case, no punctuation, spelled-out numbers to digits, "what's" -> "what is",
British to American spelling, fillers such as "uh"/"hmm" dropped) and count word edits with
``jiwer``. The reference and the hypothesis go through the same function, for every method.
A corpus WER is total edits over total reference words, not a mean of per-utterance rates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass


@functools.cache
def _normalizer():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """The comparable form of ``text``: see the module docstring for the rules."""
    return " ".join(_normalizer()(text).split())


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
