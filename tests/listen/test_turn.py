"""Turn detection: the wait after speech depends on how the transcript ends."""

from __future__ import annotations

import pytest

from voicecli.core.config import TurnConfig
from voicecli.listen.turn import is_unfinished, turn_wait_s

CFG = TurnConfig()


@pytest.mark.parametrize(
    "text, wait",
    [
        ("What time is it?", CFG.wait_question_s),
        ("Stop that!", CFG.wait_exclamation_s),
        ("Set a timer.", CFG.wait_full_stop_s),
        ("set a timer", CFG.wait_no_punctuation_s),
        ("Well, I was thinking...", CFG.wait_ellipsis_s),
        ("Well, I was thinking…", CFG.wait_ellipsis_s),
        ('He said "hello."', CFG.wait_full_stop_s),
    ],
)
def test_wait_by_ending(text, wait):
    assert turn_wait_s(text, CFG) == wait


@pytest.mark.parametrize(
    "text",
    ["Could you tell me the weather in.", "I want to go to the", "Tell me about my", "bread and?"],
)
def test_function_word_endings_are_unfinished(text):
    assert is_unfinished(text)
    assert turn_wait_s(text, CFG) >= CFG.wait_no_punctuation_s


@pytest.mark.parametrize("text", ["What time is it?", "Where are you from?", "Thank you."])
def test_complete_sentences_are_finished(text):
    assert not is_unfinished(text)
