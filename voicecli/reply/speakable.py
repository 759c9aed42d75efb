"""Turn written text (an LLM's markdown) into something sensible to say.

Why: a language model writes for a screen. Read aloud, "**Paris**" is "star star Paris", a
URL is a minute of letters and a code block is noise. The responder keeps the text as written
in its ``reply`` events (a reader can still copy the URL or the code) and hands TTS the
``Speakable`` form of each sentence: markdown marks dropped, links read as their text, bare
URLs as their site name, a code block announced once instead of read, list items and table
cells separated by pauses, emoji removed.

One ``Speakable`` per reply: a code block spans several sentences, so it remembers whether
it is inside one.
"""

from __future__ import annotations

import re

CODE_NOTE = "There is a code block in the written reply."

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_BULLET = re.compile(r"^\s*(?:[-*+•‣◦]|\d{1,3}[.)])\s+")
_MARKER_ONLY = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s*$")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
_INLINE_CODE = re.compile(r"`([^`]*)`")
# Emphasis marks around words, not inside them: "5*3*2" and "snake_case" stay as they are.
_EMPHASIS = re.compile(r"(?<![\w*_~])(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1(?![\w*_~])")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff"
    "\U0001f1e6-\U0001f1ff\u200d\ufe0f\u20e3]+"
)
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_ENDS_SENTENCE = re.compile(r"[.!?…:;,]$")


def _site(match: re.Match[str]) -> str:
    """A bare URL is read as its site: "https://www.python.org/doc" -> "python.org"."""
    url = match.group(0).rstrip(".,;:!?'\"")
    trailing = match.group(0)[len(url) :]
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    host = re.split(r"[/?#:]", host, maxsplit=1)[0]
    return host + trailing


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(_site, text)
    text = _INLINE_CODE.sub(r"\1", text)
    for _ in range(3):  # nested emphasis: ***bold italic***, **_both_**
        text = _EMPHASIS.sub(r"\2", text)
    text = _HTML_TAG.sub(" ", text)
    return _EMOJI.sub("", text)


def _table_row(line: str) -> str:
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return ", ".join(cell for cell in cells if cell)


class Speakable:
    def __init__(self) -> None:
        self.in_code = False

    def convert(self, text: str) -> str:
        """The speakable form of one sentence (may be empty: nothing to say)."""
        parts: list[str] = []
        for line in text.splitlines():
            if _FENCE.match(line):
                if not self.in_code:
                    parts.append(CODE_NOTE)
                self.in_code = not self.in_code
                continue
            if self.in_code or _RULE.match(line) or _TABLE_SEPARATOR.match(line):
                continue
            if _MARKER_ONLY.match(line):
                continue
            line = _QUOTE.sub("", line)
            structural = bool(_HEADING.match(line) or _BULLET.match(line) or "|" in line)
            line = _BULLET.sub("", _HEADING.sub("", line))
            if "|" in line:
                line = _table_row(line)
            line = _SPACES.sub(" ", _inline(line)).strip()
            if not line:
                continue
            if structural and not _ENDS_SENTENCE.search(line):
                line += "."  # a pause between list items, headings and table rows
            parts.append(line)
        return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(parts)).strip()


def speakable(text: str) -> str:
    """The speakable form of a whole text."""
    return Speakable().convert(text)
