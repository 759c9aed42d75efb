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


def test_written_forms_a_listener_hears_as_the_same_words_are_equal():
    """What Whisper writes for a reply heard word for word (tts_bench's round trip)."""
    heard_as_said = [
        ("It is 7:45 in the evening.", "It is 745 in the evening."),
        ("It is seven forty five.", "It is 7:45."),
        ("Today is Sunday, the 29th of November.", "Today is Sunday, 29 November."),
        ("5 kilometers is 3.11 miles.", "5 km is 3.11 miles."),
        ("three hundred thousand kilometres per second", "300,000 km per second"),
        ("1 mile is 5280 feet.", "1 mi is 5280 ft."),
        ("1000 minus 1 is 999.", "1000-1 is 999"),
    ]
    for said, heard in heard_as_said:
        assert normalize(said) == normalize(heard), (said, heard)
    # a different time, distance or date is still an error
    assert word_errors("It is 7:45.", "It is 7:15.").errors == 1
    assert word_errors("5 kilometers.", "5 kg.").errors == 1
    assert word_errors("the 29th of November", "the 28th of November").errors == 1
