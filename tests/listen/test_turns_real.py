"""Turn-taking on real recorded people, with the thresholds chosen on the other half.

The thresholds in ``TurnConfig`` were tuned (benchmarks/turn_sweep.py) on the speaker half 0 of
the real ``turns/`` and ``utterances/``; these tests hear only half 1. Runs are ``--fast``: the
listener waits for the transcript and the turn model, so the decisions do not depend on load.
"""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.file import load_audio
from voicecli.bench.turn_corpus import TurnItem, load_turn_corpus, pad, speaker_half
from voicecli.bench.turns import run_item
from voicecli.core.config import Config
from voicecli.listen.turn import COMPLETE, text_vote
from voicecli.reply.synth import silence

HELD_BACK = 1


@pytest.fixture(scope="module")
def model_engines(engines):
    assert engines.turn_model is not None, "the turn model (pipecat-ai) is not installed"
    return engines


def test_every_held_back_spoken_order_is_one_turn(model_engines, shared_audio):
    items = speaker_half(load_turn_corpus(shared_audio / "real" / "turns"), HELD_BACK)
    assert len(items) == 10
    split = [run_item(model_engines, Config(), i, "combined", realtime=False) for i in items]
    cut = {run.item.name: run.texts for run in split if run.declared != 1}
    assert not cut, f"cut off: {cut}"
    assert all(run.sources for run in split)


def test_held_back_commands_without_final_punctuation_are_answered_within_600_ms(
    model_engines, shared_audio
):
    items = speaker_half(load_turn_corpus(shared_audio / "real" / "utterances"), HELD_BACK)
    assert len(items) >= 25
    runs = [run_item(model_engines, Config(), i, "combined", realtime=False) for i in items]
    unpunctuated = [r for r in runs if r.declared == 1 and text_vote(r.texts[0]) != COMPLETE]
    assert len(unpunctuated) >= 5, "the real commands should include unpunctuated ones"
    slow = {r.item.name: (r.texts[0], r.waits_ms[0]) for r in unpunctuated if r.waits_ms[0] >= 600}
    assert not slow, f"waited 600 ms or more: {slow}"
    # the same commands under the rules alone wait their full "no punctuation" time
    rules = run_item(model_engines, Config(), unpunctuated[0].item, "rules", realtime=False)
    assert rules.waits_ms[0] >= 1000 > unpunctuated[0].waits_ms[0]


def test_jfk_with_its_long_pauses_is_one_turn(model_engines, shared_audio):
    item = load_turn_corpus(shared_audio / "jfk.flac")[0]
    run = run_item(model_engines, Config(), item, "combined", realtime=False)
    assert run.declared == 1, run.texts
    assert "country" in run.texts[0].lower()


def test_two_real_utterances_1_5_s_apart_are_two_turns(model_engines, shared_audio):
    folder = shared_audio / "real" / "utterances"
    first, second = (
        load_audio(folder / n) for n in ("ps_goforward.flac", "wwb_jarvis_474e81c6.flac")
    )
    audio = pad(np.concatenate([first, silence(1.5), second]))
    item = TurnItem("two", "utterances", 2, audio)
    run = run_item(model_engines, Config(), item, "combined", realtime=False)
    assert run.declared == 2, run.texts
    assert "forward" in run.texts[0].lower() and "jarvis" in run.texts[1].lower()
