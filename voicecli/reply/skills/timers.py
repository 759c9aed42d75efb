"""Timers by voice: "set a timer for five minutes", "set a pasta timer for ten minutes",
"what timers are running", "cancel the timer", "cancel the pasta timer".

Why the board comes with the SkillContext: each conversation (each server session) has its own
timers, run by its pipeline on the pipeline clock (``voicecli.reply.timers``); this module only
understands the words.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from voicecli.reply.numbers import say_number, words_to_quantities

if TYPE_CHECKING:
    from voicecli.reply.context import SkillContext

NAME = "timers"
HELP = "run timers"
EXAMPLE = "set a timer for five minutes"
# words the recogniser is biased towards (reply.bias); never numbers
VOCABULARY = ("timer", "minutes", "seconds", "cancel")

MAX_S = 24 * 3600
_UNIT_S = {"hour": 3600, "minute": 60, "second": 1}
_UNIT_NAMES = {
    "hour": "hour|hours|hr|hrs",
    "minute": "minute|minutes|min|mins",
    "second": "second|seconds|sec|secs",
}
_UNIT = "|".join(_UNIT_NAMES.values())
_PART = re.compile(rf"\b(\d+(?:\.\d+)?|an?) (?:- )?({_UNIT})\b")
_CANCEL = re.compile(
    r"\b(?:cancel|stop|delete|remove|clear|end|dismiss|kill|turn off|switch off)\b"
    r"(?: (?:all|every|each))?(?: (?:the|my|that|this|of))*(?: (.+?))? timers?\b"
)
_ALL = re.compile(r"\b(?:all|every|each)\b|\btimers\b")
_LIST = re.compile(
    r"\b(?:what|which|list|show|any|how many)\b.*\btimers?\b|"
    r"\bhow (?:much time|long) (?:is )?(?:left|remaining|to go)\b|\btime (?:left|remaining)\b"
)
_SET = re.compile(r"\b(?:set|start|create|make|add|put on|begin)\b|\btimer (?:for|of)\b")
_NAMED = re.compile(r"\b(?:called|named|labell?ed|for the|for my) ([a-z][a-z ]*?)$")
_BEFORE_TIMER = re.compile(r"\b(?:a|an|the|my|one|another) ([a-z][a-z ]*?) timer\b")
_FILLER = {"new", "quick", "second", "the", "a", "an", "my", "for", "please"}


def _unit(word: str) -> str:
    return next(name for name, words in _UNIT_NAMES.items() if word in words.split("|"))


def parse_duration(words: str) -> float | None:
    """Seconds in "1 hour and 30 minutes", "1.5 minute", "a minute", "90 seconds"; else None."""
    parts = _PART.findall(words)
    if not parts:
        return None
    return sum((1.0 if n in ("a", "an") else float(n)) * _UNIT_S[_unit(u)] for n, u in parts)


def say_duration(seconds: float, short: bool = False) -> str:
    """ "1 hour 30 minutes", "5 seconds"; ``short`` gives the label form "1 hour 30 minute"."""
    whole = math.ceil(round(seconds, 3))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if value:
            parts.append(f"{value} {unit}" + ("" if short or value == 1 else "s"))
    return " ".join(parts) or ("0 second" if short else "0 seconds")


def _label(words: str) -> str | None:
    """The name the user gave the timer ("pasta"), if any."""
    match = _NAMED.search(_PART.sub(" ", words).strip())
    if match is None:
        match = _BEFORE_TIMER.search(words)
    if match is None:
        return None
    name = [w for w in match[1].split() if w not in _FILLER]
    if not name or any(re.fullmatch(rf"\d.*|{_UNIT}|-", w) for w in name):
        return None
    return " ".join(name)


def _normalise(text: str) -> str:
    words = words_to_quantities(text)
    return " ".join(re.sub(r"[?!,;:]|\.(?!\d)", " ", words).split())


def _set(words: str, board) -> str:
    seconds = parse_duration(words)
    if seconds is None:
        return "How long should the timer run? Say, for example: set a timer for five minutes."
    if not 1 <= seconds <= MAX_S:
        return "I can set timers from one second up to 24 hours."
    name = _label(words)
    board.set(seconds, name or say_duration(seconds, short=True))
    said = say_duration(seconds)
    return f"{name.capitalize()} timer set for {said}." if name else f"Timer set for {said}."


def _describe(timer, board) -> str:
    return f"The {timer.label} timer has {say_duration(board.remaining_s(timer))} left."


def _names(timers: list) -> str:
    labels = [t.label for t in timers]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _matching(running: list, label: str | None) -> list:
    if not label:
        return running
    wanted = label.split()
    return [t for t in running if t.label == label or set(wanted) <= set(t.label.split())]


def _cancel(match: re.Match, board) -> str:
    running = board.running()
    if not running:
        return "There are no timers running."
    everything = _ALL.search(match[0]) is not None  # "cancel all timers", "clear the timers"
    label = " ".join(w for w in (match[1] or "").split() if w not in _FILLER) or None
    chosen = running if everything and not label else _matching(running, label)
    if not chosen:
        return f"I couldn't find a {label} timer. Running: {_names(running)}."
    if len(chosen) > 1 and not everything:
        return f"There are {len(chosen)} timers: {_names(chosen)}. Which one should I cancel?"
    for timer in chosen:
        board.cancel(timer)
    if len(chosen) == 1:
        return f"The {chosen[0].label} timer is cancelled."
    return f"All {say_number(len(chosen))} timers are cancelled."


def _list(words: str, board) -> str:
    running = board.running()
    named = _BEFORE_TIMER.search(words)
    chosen = _matching(running, named[1]) if named else []
    if chosen:  # "how much time is left on the pasta timer"
        return " ".join(_describe(t, board) for t in chosen)
    if not running:
        return "No timers are running."
    head = "One timer is running." if len(running) == 1 else f"{len(running)} timers are running."
    return " ".join([head, *(_describe(t, board) for t in running)])


def _intent(words: str) -> tuple[str | None, re.Match | None]:
    """What the normalised request asks of the timers: cancel (with its match), list or set."""
    cancel = _CANCEL.search(words)
    if cancel:
        return "cancel", cancel
    if _LIST.search(words) and parse_duration(words) is None:
        return "list", None
    if _SET.search(words) or parse_duration(words) is not None:
        return "set", None
    return None, None


def _mine(words: str) -> bool:
    return bool(re.search(r"\btimers?\b", words) or _LIST.search(words))


def answer(text: str, context: SkillContext) -> str | None:
    words = _normalise(text)
    if not _mine(words):
        return None
    board = context.timers
    intent, cancel = _intent(words)
    if board is None:
        return "I can't run timers here." if intent == "cancel" or "timer" in words else None
    if intent == "cancel":
        return _cancel(cancel, board)
    if intent == "list":
        return _list(words, board)
    if intent == "set":
        return _set(words, board)
    return None


def confirm_question(text: str, context: SkillContext) -> str | None:
    """The yes/no question before setting or cancelling (reply.confirm); None when ``text``
    would change no timer (a list, a length out of range, nothing running to cancel)."""
    words = _normalise(text)
    board = context.timers
    if not _mine(words) or board is None:
        return None
    intent, cancel = _intent(words)
    if intent == "cancel" and board.running():
        label = " ".join(w for w in (cancel[1] or "").split() if w not in _FILLER)
        if _ALL.search(cancel[0]) and not label:
            return "Cancel all timers?"
        return f"Cancel the {label} timer?" if label else "Cancel the timer?"
    seconds = parse_duration(words) if intent == "set" else None
    if seconds is None or not 1 <= seconds <= MAX_S:
        return None
    name = _label(words)
    return f"Set {'a ' + name if name else 'a'} timer for {say_duration(seconds)}?"
