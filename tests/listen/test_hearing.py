"""Hearing real people: real recordings through the real pipeline and tiny.en.

Recordings: ../shared/audio/real (Free Spoken Digit Dataset CC BY-SA 4.0, Speech Commands
yes/no, CMU pocketsphinx test data, Picovoice benchmarks, iver56/audiomentations noises; see
its README). Bounds come from measurement with margin (benchmarks/RESULTS.md, "Real speech").
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from support.pipeline import of_type, run_pipeline

from voicecli.audio.file import load_audio, resample
from voicecli.bench.corpus import CorpusItem
from voicecli.bench.run import RecordingStt, run_utterance
from voicecli.bench.wer import WordErrors, normalize, word_errors
from voicecli.core.audio_format import TTS_RATE
from voicecli.core.config import Config, SttConfig
from voicecli.listen.short_window import (
    ShortWindowDecoder,
    ShortWindowOptions,
    cut_repeats,
    find_repeat,
    is_phantom,
)
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.bias import bias_for
from voicecli.reply.synth import compose, silence

# Measured 10 errors in 56 words (17.9 %) on these files (digits, yes/no, commands) through
# the pipeline; transcribe() on the same audio: 15 (26.8 %). Bound: about 1.5x the measurement.
COMMANDS_WER_BOUND = 0.27


def test_token_cap_counts_new_tokens_and_a_capped_decode_is_flagged(engines):
    # CTranslate2's Whisper generates at most max_length // 2 tokens: the cap used to be half
    # of what it said, which cut the ends off utterances without calling them capped.
    options = ShortWindowOptions(min_tokens=5, tokens_per_s=0.0, loop_pad_s=None)
    decoder = ShortWindowDecoder(engines.stt.model, options)
    raw = decoder.raw_decode(compose(0.2, "Turn off the lights in the kitchen please.", 0.2))
    assert raw.capped
    assert sum(len(s.tokens) for s in raw.segments) >= 3  # 5 with the first timestamp


def test_a_looping_decode_is_cut_at_its_first_repeat():
    assert find_repeat(["Javis.", "Javis.", "Jav"]) is None  # an ordinary text may say it twice
    assert find_repeat(["Javis.", "Javis.", "Jav"], looping=True) == 1
    assert cut_repeats("Smart Mayor Smart Mayor Smart", looping=True) == ("Smart Mayor", True)


def test_phantom_phrases_are_dropped_only_on_weak_evidence():
    options = ShortWindowOptions()
    assert is_phantom("Thank you.", no_speech_prob=0.5, avg_logprob=-0.3, opts=options)
    assert is_phantom("you", no_speech_prob=0.05, avg_logprob=-0.9, opts=options)
    assert not is_phantom("Thank you.", no_speech_prob=0.05, avg_logprob=-0.2, opts=options)
    assert not is_phantom("Thank you, computer.", no_speech_prob=0.9, avg_logprob=-2, opts=options)


@pytest.fixture(scope="module")
def real_commands(shared_audio) -> list[CorpusItem]:
    folder = shared_audio / "real" / "utterances"
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return [
        CorpusItem(name, entry["kind"], entry["text"], load_audio(folder / name))
        for name, entry in sorted(truth.items())
        if entry["kind"] in ("word", "command")
    ]


def test_real_commands_and_words_are_heard_under_the_bound(engines, real_commands):
    total = WordErrors(0, 0)
    for item in real_commands:
        run = run_utterance(engines, Config(), item, realtime=False)
        assert not run.errors, run.errors
        assert run.hypothesis, f"{item.name}: real speech heard as nothing"
        total += word_errors(item.reference, run.hypothesis)
    assert total.words == 56
    assert total.rate <= COMMANDS_WER_BOUND, f"{total.errors} errors in {total.words} words"


def test_a_looping_real_wake_word_comes_out_once(engines, shared_audio):
    # Without the longer-padding retry tiny.en read this recording as "Javis. Javis. Jav".
    audio = load_audio(shared_audio / "real" / "utterances" / "wwb_jarvis_1824fe16.flac")
    run = run_utterance(
        engines, Config(), CorpusItem("jarvis", "w", "jarvis", audio), realtime=False
    )
    assert len(normalize(run.hypothesis).split()) == 1, run.hypothesis


@pytest.mark.parametrize(
    "name", ["hens", "kitchen", "music_perfect_alley", "sheep", "stationary_lowfreq", "silence"]
)
def test_noise_and_silence_give_no_transcript(engines, shared_audio, name):
    if name == "silence":
        audio = silence(8.0)
    else:
        audio = load_audio(shared_audio / "real" / "noise" / f"{name}.flac")
    _pipeline, events = run_pipeline(engines, np.concatenate([audio, silence(1.5)]))
    assert of_type(events, "transcript") == []
    assert of_type(events, "reply") == []


def test_an_earlier_number_does_not_leak_into_the_next_turn(engines, piper_tts):
    # A neural voice (Piper joe, the project's TTS): tiny.en does not hear espeak-ng's "nine
    # times seven" at all ("What is either time, seven?"), so that voice cannot show a leak.
    def speak(text: str) -> np.ndarray:
        return resample(piper_tts.synthesize(text).astype(np.float32) / 32768, TTS_RATE)

    # With the recognition bias on (stt.bias = "skills"): the second utterance is decoded
    # with the first turn in its prompt, without its numbers.
    first, second = speak("What is eight times three?"), speak("What is nine times seven?")
    audio = np.concatenate([silence(0.3), first, silence(2.5), second, silence(2.5)])
    recorder = RecordingStt(engines.stt)
    biased = Engines(stt=recorder, tts=engines.tts, turn_model=engines.turn_model)
    _pipeline, events = run_pipeline(biased, audio, config=Config(stt=SttConfig(bias="skills")))
    replies = [normalize(e.text) for e in of_type(events, "reply", final=True)]
    assert len(replies) == 2, replies
    assert "24" in replies[0].split(), replies
    assert "63" in replies[1].split(), replies
    prompts = [call.prompt for call in recorder.calls]
    assert all("times" in p for p in prompts), prompts  # the arithmetic skill's word
    assert prompts[-1].endswith("What is times?"), prompts  # the previous turn, no numbers
    assert not any(re.search(r"\d|eight|three", p) for p in prompts), prompts


def test_the_previous_turn_leaks_its_numbers_unless_the_bias_removes_them(engines):
    # espeak-ng's "nine times seven" (which tiny.en hears badly) is where the leak shows:
    # conditioned on "What is eight times three?" as said, "eight" is heard; the bias gives
    # the previous turn without its numbers (measured: docs/recognition.md).
    audio = np.concatenate([silence(0.25), compose("What is nine times seven?")])
    decoder = engines.stt.short_window
    leaked = normalize(decoder.decode(audio, prompt="What is eight times three?").text)
    assert "8" in leaked.split(), leaked
    bias = bias_for(Config(stt=SttConfig(bias="skills")))
    bias.heard("What is eight times three?")
    heard = normalize(decoder.decode(audio, prompt=bias.prompt()).text).split()
    assert "8" not in heard and "3" not in heard and "7" in heard, heard
