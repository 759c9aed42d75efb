"""The recognition bias prompt (reply/bias.py): built from the skills, never with numbers."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from voicecli.core.config import Config, SttConfig, WakeConfig
from voicecli.core.errors import UsageError
from voicecli.reply.bias import RecognitionBias, bias_for, skill_vocabulary, without_numbers
from voicecli.reply.numbers import NUMBER_WORDS
from voicecli.reply.skills import SKILLS


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+|\d+", text.lower())


def test_every_skill_contributes_words_and_none_is_a_number():
    for skill in SKILLS:
        assert skill.VOCABULARY, f"{skill.NAME} has no VOCABULARY"
    vocabulary = skill_vocabulary()
    words = [w for phrase in vocabulary for w in _words(phrase)]
    assert not [w for w in words if w.isdigit() or w in NUMBER_WORDS]
    assert {"times", "timer", "kilometers", "stop"} <= set(words)
    assert len(vocabulary) == len(set(vocabulary))  # each phrase once


def test_vocabulary_follows_the_registry_order_and_a_new_skill_adds_its_words():
    extra = SimpleNamespace(NAME="weather", VOCABULARY=("forecast", "times"))
    vocabulary = skill_vocabulary((*SKILLS, extra))
    assert vocabulary[-1] == "forecast"
    assert vocabulary.count("times") == 1


def test_previous_turn_is_kept_without_its_numbers():
    assert without_numbers("What is 8 times three?") == "What is times?"
    assert without_numbers("Set a timer for twenty-five minutes.") == "Set a timer for minutes."
    bias = RecognitionBias(("timer",))
    bias.heard("What is eight times 3.5?")
    prompt = bias.prompt()
    assert prompt.endswith("What is times?"), prompt
    assert not re.search(r"\d|\beight\b|\bthree\b", prompt)


def test_prompt_order_wake_word_then_skills_then_previous_turn():
    config = Config(stt=SttConfig(bias="skills"), wake=WakeConfig(word="hey_jarvis"))
    bias = bias_for(config)
    bias.heard("cancel the pasta timer")
    prompt = bias.prompt()
    assert prompt.startswith("Hey Jarvis. What did I ask"), prompt
    assert prompt.endswith(". cancel the pasta timer"), prompt


def test_off_gives_no_bias_and_an_unknown_mode_is_a_usage_error():
    assert Config().stt.bias == "off"  # the measured default (docs/recognition.md)
    assert bias_for(Config()) is None
    with pytest.raises(UsageError, match="stt.bias"):
        bias_for(Config(stt=SttConfig(bias="always")))


def test_a_pipeline_on_an_ongoing_conversation_starts_from_its_last_turn(engines):
    from voicecli.core.bus import EventBus
    from voicecli.pipeline.pipeline import Pipeline
    from voicecli.reply.context import Conversation

    conversation = Conversation()
    conversation.add("Set a timer for 5 minutes.", "Timer set for 5 minutes.")
    pipeline = Pipeline(
        config=Config(stt=SttConfig(bias="skills")),
        engines=engines,
        source=None,
        bus=EventBus(),
        conversation=conversation,
        system_interval_s=None,
    )
    assert pipeline.bias.prompt().endswith("Set a timer for minutes.")
    assert Pipeline(config=Config(), engines=engines, source=None, bus=EventBus()).bias is None
