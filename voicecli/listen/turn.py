"""Turn detection: how long to wait after speech stops before answering.

Why a heuristic: the wait depends on how the transcript ends (RealtimeVoiceChat's anchors:
question 0.33 s, exclamation 0.35 s, full stop 0.39 s, no punctuation 1.25 s, ellipsis 2.3 s).
Whisper often adds a full stop to a sentence cut in the middle, so a transcript that ends in a
function word ("... the weather in.") counts as unfinished whatever its punctuation. We cannot
download a sentence-completion model, so this word list is our completion score.
"""

from __future__ import annotations

import re

from voicecli.core.config import TurnConfig

UNFINISHED_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "yet",
        "to",
        "of",
        "in",
        "for",
        "with",
        "into",
        "onto",
        "than",
        "because",
        "if",
        "whether",
        "while",
        "my",
        "your",
        "our",
        "their",
        "its",
        "very",
        "um",
        "uh",
        "er",
    ]
)

_WORD = re.compile(r"[a-z']+")


def last_word(text: str) -> str:
    words = _WORD.findall(text.lower())
    return words[-1] if words else ""


def is_unfinished(text: str) -> bool:
    """True when the words so far read like the middle of a sentence."""
    return last_word(text) in UNFINISHED_WORDS


def turn_wait_s(text: str, config: TurnConfig) -> float:
    """Seconds of silence after the last speech sample before the turn is declared."""
    stripped = text.strip().rstrip("\"')]}»”’ ")
    if stripped.endswith(("...", "…")):
        punct_wait = config.wait_ellipsis_s
    elif stripped.endswith("?"):
        punct_wait = config.wait_question_s
    elif stripped.endswith("!"):
        punct_wait = config.wait_exclamation_s
    elif stripped.endswith("."):
        punct_wait = config.wait_full_stop_s
    else:
        punct_wait = config.wait_no_punctuation_s
    if is_unfinished(stripped):
        return max(punct_wait, config.wait_no_punctuation_s)
    return punct_wait
