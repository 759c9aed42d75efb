"""Written text (an LLM's markdown) turned into something sensible to say."""

from __future__ import annotations

import pytest

from voicecli.reply.sentences import split_sentences
from voicecli.reply.speakable import CODE_NOTE, Speakable, speakable


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("**Paris** is the *capital* of France.", "Paris is the capital of France."),
        ("***Both*** and _this_ and ~~that~~.", "Both and this and that."),
        ("Use `print()` here.", "Use print() here."),
        ("Great question! 😀👍 Let's go 🇫🇷.", "Great question! Let's go."),
        ("Read [the guide](https://example.com/guide) first.", "Read the guide first."),
        ("![a cat](cat.png) Cute.", "a cat Cute."),
        ("See https://www.python.org/downloads/release/ today.", "See python.org today."),
        ("Docs: http://docs.example.com:8080/a?b=c.", "Docs: docs.example.com."),
        ("# Fruit\n- apples\n- pears\n1. plums\n2) figs", "Fruit. apples. pears. plums. figs."),
        ("> quoted **words**", "quoted words"),
        ("| city | people |\n|---|---:|\n| Paris | 2 million |", "city, people. Paris, 2 million."),
        ("Before.\n\n---\n\nAfter.", "Before. After."),
        ("Line one<br>line two.", "Line one line two."),
    ],
)
def test_markdown_emoji_and_urls_become_sensible_speech(written, said):
    assert speakable(written) == said


@pytest.mark.parametrize(
    "plain",
    [
        "12 times 8 is 96.",
        "It's 4:27 PM.",
        "5*3*2 is 30, and snake_case_names stay.",
        "It is 20°C and 3 - 1 = 2.",
        "Dr. Smith arrives at 3.5 o'clock, e.g. soon.",
    ],
)
def test_plain_text_is_left_alone(plain):
    assert speakable(plain) == plain


def test_a_code_block_is_announced_once_not_read_even_across_sentences():
    reply = "Try this:\n```python\nx = 1. y = 2\nprint(x)\n```\nThat prints one. Done!"
    speaker = Speakable()
    said = [speaker.convert(sentence) for sentence in split_sentences(reply)]
    spoken = " ".join(s for s in said if s)
    assert spoken == f"Try this: {CODE_NOTE} That prints one. Done!"
    assert "print" not in spoken.replace("prints", "") and "x = 1" not in spoken


def test_a_list_marker_cut_off_by_the_sentence_splitter_says_nothing():
    speaker = Speakable()
    said = [speaker.convert(s) for s in split_sentences("Steps:\n1. Open it.\n2. Close it.")]
    assert [s for s in said if s] == ["Steps:", "Open it.", "Close it."]
