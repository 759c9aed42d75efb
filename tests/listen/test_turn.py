"""Turn detection: the wait after speech depends on how the transcript ends."""

from __future__ import annotations

import pytest

from voicecli.core.config import TurnConfig
from voicecli.listen.turn import TurnPlan, is_unfinished, plan, text_vote, turn_wait_s

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


# -- one decision from the transcript and the turn model (docs/turns.md) --------------------
@pytest.mark.parametrize(
    "text, vote",
    [
        ("Set a timer.", "complete"),
        ("What time is it?", "complete"),
        ("go forward ten meters", "unknown"),
        ("front, center", "unknown"),
        ("bread, butter,", "unfinished"),
        ("I was thinking...", "unfinished"),
        ("Could you tell me the weather in.", "unfinished"),
        ("4,", "unknown"),  # Whisper's comma after a lone word
        ("and so my fellow Americans", "unfinished"),  # a sentence without its stop
    ],
)
def test_transcript_votes(text, vote):
    assert text_vote(text) == vote


def test_the_model_decides_when_the_transcript_cannot():
    sure, unsure = (
        plan("go forward", 0.9, "combined", CFG),
        plan("go forward", 0.1, "combined", CFG),
    )
    assert (sure.wait_s, sure.source) == (CFG.wait_model_s, "model")
    assert (unsure.wait_s, unsure.source) == (CFG.wait_unknown_s, "model")
    assert sure.wait_s < unsure.wait_s


def test_agreement_decides_early_and_disagreement_waits_longer():
    agree = plan("Set a timer.", 0.9, "combined", CFG)
    assert (agree.wait_s, agree.source) == (CFG.wait_agree_s, "both")
    cut = plan("Remind me to buy bread.", 0.1, "combined", CFG)  # Whisper's stop at a pause
    assert (cut.wait_s, cut.source) == (CFG.wait_disagree_s, "rule")
    assert cut.wait_s > agree.wait_s and cut.wait_s > turn_wait_s("Remind me to buy bread.", CFG)
    hesitation = plan("bread, butter,", 0.9, "combined", CFG)  # the words win: rule's wait
    assert hesitation == TurnPlan(CFG.wait_no_punctuation_s, "rule")
    assert hesitation.wait_s > agree.wait_s
    both_unfinished = plan("I want to go to the", 0.1, "combined", CFG)
    assert both_unfinished == TurnPlan(turn_wait_s("I want to go to the", CFG), "both")


def test_rules_alone_and_model_alone():
    assert plan("go forward", 0.9, "rules", CFG) == TurnPlan(CFG.wait_no_punctuation_s, "rule")
    assert plan("go forward", None, "combined", CFG) == TurnPlan(CFG.wait_no_punctuation_s, "rule")
    assert plan("Set a timer.", 0.1, "model", CFG) == TurnPlan(CFG.wait_model_max_s, "model")
    assert plan("and the", 0.9, "model", CFG) == TurnPlan(CFG.wait_model_s, "model")
