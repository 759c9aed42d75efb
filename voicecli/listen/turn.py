"""Turn detection: how long to wait after speech stops before answering.

Why a heuristic: the wait depends on how the transcript ends (RealtimeVoiceChat's anchors:
question 0.33 s, exclamation 0.35 s, full stop 0.39 s, no punctuation 1.25 s, ellipsis 2.3 s).
Whisper often adds a full stop to a sentence cut in the middle, so a transcript that ends in a
function word ("... the weather in.") counts as unfinished whatever its punctuation. We cannot
download a sentence-completion model, so this word list is our completion score.

Beside it, an audio end-of-turn model (turn_model.py) gives P(complete). ``decide`` makes one
decision from both (docs/turns.md): the transcript votes complete / unfinished / unknown; on
unknown the model decides, on agreement the turn is declared early, on disagreement later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def _strip(text: str) -> str:
    return text.strip().rstrip("\"')]}»”’ ")


def turn_wait_s(text: str, config: TurnConfig) -> float:
    """Seconds of silence after the last speech sample before the turn is declared (rules)."""
    stripped = _strip(text)
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


COMPLETE, UNFINISHED, UNKNOWN = "complete", "unfinished", "unknown"
RULES, MODEL, COMBINED = "rules", "model", "combined"
DETECTORS = (RULES, MODEL, COMBINED)
# what decided a turn (turn_metrics.turn_source)
BY_RULE, BY_MODEL, BY_BOTH = "rule", "model", "both"


def text_vote(text: str, short_words: int = 4) -> str:
    """The transcript's vote: a trailing function word, ellipsis or comma reads unfinished;
    a final . ? ! complete; anything else (the common case for real short commands) unknown.

    Length matters (measured on the real recordings, docs/turns.md): Whisper writes a lone
    word as "4," or "Jarvis," and leaves short commands unpunctuated, but punctuates a
    finished sentence; so a comma after one lone word is unknown, and beyond ``short_words``
    words no final punctuation reads unfinished ("and so my fellow Americans" at JFK's pause).
    """
    stripped = _strip(text)
    words = len(stripped.split())
    short = words <= short_words
    if is_unfinished(stripped) or stripped.endswith(("...", "…")):
        return UNFINISHED
    if stripped.endswith((".", "?", "!")):
        return COMPLETE
    if stripped.endswith(","):
        return UNKNOWN if words == 1 else UNFINISHED
    return UNKNOWN if short else UNFINISHED


@dataclass(frozen=True)
class TurnPlan:
    """How long to wait after speech stops (seconds), and what that wait was chosen by."""

    wait_s: float
    source: str  # BY_RULE | BY_MODEL | BY_BOTH


def plan(text: str, probability: float | None, detector: str, config: TurnConfig) -> TurnPlan:
    """The wait for this transcript and the model's latest P(complete) (None: no model)."""
    if detector == RULES or probability is None:
        return TurnPlan(turn_wait_s(text, config), BY_RULE)
    complete = probability >= config.model_threshold
    if detector == MODEL:
        return TurnPlan(config.wait_model_s if complete else config.wait_model_max_s, BY_MODEL)
    vote = text_vote(text, config.short_words)
    if vote == UNKNOWN:
        return TurnPlan(config.wait_model_s if complete else config.wait_unknown_s, BY_MODEL)
    if vote == UNFINISHED:  # the words are not done: the rule's long wait, whatever the model
        return TurnPlan(turn_wait_s(text, config), BY_RULE if complete else BY_BOTH)
    if complete:  # agreement: early
        return TurnPlan(config.wait_agree_s, BY_BOTH)
    # a final stop the audio does not confirm (Whisper's stop at a pause): wait longer
    return TurnPlan(config.wait_disagree_s, BY_RULE)


class TurnJudge:
    """The end-of-turn decision for one listener: scores the audio model when silence begins
    (beside the speculative transcription) and again every ``model_interval_s`` while it
    lasts and the model still says "unfinished" (a "complete" already sets the shortest wait
    its transcript allows), and plans the wait from the latest score and the transcript.

    Why scoring in the caller's thread: the listener then waits for the model in ``--fast``
    and in real time alike, so decisions do not depend on load; the STT worker runs on the
    other core meanwhile, and the frames queued during a score are caught up in microseconds.
    """

    def __init__(self, config: TurnConfig, model=None) -> None:
        self.config = config
        self.model = model  # a TurnModel, or None: rules alone
        self.detector = config.detector if model is not None else RULES
        self.model_enabled = True  # thermal protection may switch it off (model_when_hot)
        self.hot = False  # under thermal protection: one score per pause, no re-scoring
        self.reset()

    def reset(self) -> None:
        self.probability: float | None = None
        self._next_s: float | None = None  # silence at which the next score is due

    def apply_thermal(self, protection) -> None:
        """Hot (docs/thermal.md): the model scores once per pause, or not at all when
        ``model_when_hot`` is false (rules alone)."""
        self.hot = protection.active
        self.model_enabled = self.config.model_when_hot or not protection.active

    @property
    def active(self) -> bool:
        return self.detector != RULES and self.model_enabled

    def silence_began(self, audio, silence_s: float) -> None:
        """First silent frames: score now (the STT job has just been submitted)."""
        self._next_s = silence_s
        self.during_silence(audio, silence_s)

    def during_silence(self, audio, silence_s: float) -> None:
        """Score again when the interval has passed (``audio``: a callable or an array)."""
        if not self.active or self._next_s is None or silence_s < self._next_s:
            return
        if self.probability is not None and (
            self.hot or self.probability >= self.config.model_threshold
        ):
            return  # a score that says "complete" is re-planned by the transcript, not re-run
        self.probability = self.model.score(audio() if callable(audio) else audio).probability
        self._next_s = silence_s + self.config.model_interval_s

    def speech_resumed(self) -> None:
        self.probability = None
        self._next_s = None

    def plan(self, text: str) -> TurnPlan:
        detector = self.detector if self.active else RULES
        return plan(text, self.probability, detector, self.config)
