"""The one WER normaliser: both sides cleaned the same way, edits counted per reference word."""

from __future__ import annotations

import pytest

from voicecli.bench.wer import WordErrors, corpus_wer, normalize, word_errors


def test_normaliser_ignores_case_punctuation_contractions_and_number_spelling():
    assert normalize("What's the weather?") == "what is the weather"
    assert normalize("Set a timer for five minutes.") == normalize("set a timer for 5 minutes")
    assert normalize("  Turn   OFF the lights!! ") == "turn off the lights"


def test_word_errors_count_substitutions_deletions_and_insertions():
    assert word_errors("turn off the lights", "turn off the lights.") == WordErrors(0, 4)
    assert word_errors("turn off the lights", "turn of the lights") == WordErrors(1, 4)
    assert word_errors("turn off the lights", "turn the lights") == WordErrors(1, 4)
    assert word_errors("turn off the lights", "please turn off the lights now") == WordErrors(2, 4)
    assert word_errors("turn off the lights", "").rate == 1.0


def test_empty_reference_counts_inserted_words():
    assert word_errors("", "") == WordErrors(0, 0)
    assert word_errors("uh", "hello there").errors == 2


def test_corpus_wer_is_total_edits_over_total_words_not_a_mean_of_rates():
    pairs = [
        ("please turn on all the lights in the big kitchen", "please turn on all the"),
        ("stop", "stop"),
    ]
    assert corpus_wer(pairs) == pytest.approx(5 / 11)
