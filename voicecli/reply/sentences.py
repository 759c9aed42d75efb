"""Cut a stream of text deltas into sentences, so each can be spoken as soon as it is complete.

Why not split on every full stop: "Dr. Smith", "3.5" and "e.g." must not cut a sentence. A
sentence ends at . ! ? or … followed by white space (or the end of the stream), unless the word
before it is a known abbreviation or a single letter.

A reply's first sentence is cut further (``first_pieces``), because its first piece is what
the user waits for: Piper's synthesis time grows with the audio (~0.13 s of CPU per second of
speech), so a short skill reply ("7 times 6 is 42.") is cut once at a phrase boundary, before
a verb such as "is" or a conjunction or preposition ("7 times 6 | is 42."), and the rest is
synthesised while the first phrase plays (benchmarks/RESULTS.md, "Piper TTS").
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "fig",
        "mt",
        "ft",
    ]
)
_END = re.compile(r"[.!?…]+[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—])\s+")
LONG_WORDS = 10  # a first sentence longer than this is spoken clause by clause
MIN_CLAUSE_WORDS = 3  # shorter clauses join the next one (a lone "Well," sounds clipped)
PHRASE_WORDS = 4  # a first piece longer than this is cut once more at a phrase boundary
MIN_PHRASE_WORDS = 2  # the first phrase has at least this many words, the rest too
REST_PER_PHRASE = 3  # the rest at most 3x the first phrase's words: made while it plays
_VERBS = ("is", "are", "was", "were", "will", "can")
_CONJUNCTIONS = ("and", "but", "or", "so", "because", "that", "than")
_PREPOSITIONS = ("of", "for", "in", "on", "at", "to", "with", "from", "by")
_PHRASE_START = frozenset(_VERBS + _CONJUNCTIONS + _PREPOSITIONS)
_PUNCTUATED = re.compile(r"[.!?…,;:—\"')\]]$")


class SentenceSplitter:
    def __init__(self, min_chars: int = 2) -> None:
        self._buffer = ""
        self.min_chars = min_chars

    def feed(self, delta: str) -> list[str]:
        """Add text; return the sentences it completed."""
        self._buffer += delta
        sentences = []
        start = 0
        for match in _END.finditer(self._buffer):
            candidate = self._buffer[start : match.end()].strip()
            words = candidate[: match.start() - start].split()
            last = words[-1].lower().rstrip(".") if words else ""
            if last in _ABBREVIATIONS or (
                len(last) == 1 and last.isalpha() and "." in match.group()
            ):
                continue
            if len(candidate) >= self.min_chars:
                sentences.append(candidate)
                start = match.end()
        self._buffer = self._buffer[start:]
        return sentences

    def flush(self) -> list[str]:
        """End of stream: whatever is left is the last sentence."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


def split_sentences(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()


def split_clauses(sentence: str) -> list[str]:
    """A long sentence cut after , ; : and dashes, so its first words can be spoken while
    the rest is synthesised (Piper itself only cuts at sentence ends); short ones whole."""
    if len(sentence.split()) <= LONG_WORDS:
        return [sentence]
    pieces: list[str] = []
    pending = ""
    for clause in _CLAUSE_END.split(sentence):
        pending = f"{pending} {clause}".strip()
        if len(pending.split()) >= MIN_CLAUSE_WORDS:
            pieces.append(pending)
            pending = ""
    if pending:
        if pieces:
            pieces[-1] = f"{pieces[-1]} {pending}"
        else:
            pieces.append(pending)
    return pieces


def split_phrase(piece: str) -> list[str]:
    """``piece`` cut once at its first phrase boundary (after a comma, before a word of
    _PHRASE_START) that leaves a first phrase of at least MIN_PHRASE_WORDS and a rest of at
    most REST_PER_PHRASE times as many words."""
    words = piece.split()
    if len(words) <= PHRASE_WORDS:
        return [piece]
    for cut in range(MIN_PHRASE_WORDS, len(words) - MIN_PHRASE_WORDS + 1):
        boundary = words[cut].lower() in _PHRASE_START or words[cut - 1][-1] in ",;:"
        if boundary and len(words) - cut <= REST_PER_PHRASE * cut:
            return [" ".join(words[:cut]), " ".join(words[cut:])]
    return [piece]


def first_pieces(sentence: str, phrases: bool) -> list[str]:
    """A reply's first sentence as it is spoken: at clauses if long, then (``phrases``: for
    a slow engine) its first piece cut once more at a phrase boundary."""
    pieces = split_clauses(sentence)
    return split_phrase(pieces[0]) + pieces[1:] if phrases else pieces


def cut_mid_phrase(piece: str) -> bool:
    """True if ``piece`` ends where no punctuation marks a pause (a ``split_phrase`` cut)."""
    return not _PUNCTUATED.search(piece.rstrip())
