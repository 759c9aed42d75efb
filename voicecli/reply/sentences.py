"""Cut a stream of text deltas into sentences, so each can be spoken as soon as it is complete.

Why not split on every full stop: "Dr. Smith", "3.5" and "e.g." must not cut a sentence. A
sentence ends at . ! ? or … followed by white space (or the end of the stream), unless the word
before it is a known abbreviation or a single letter.
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
