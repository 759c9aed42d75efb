"""Streaming speech: a long reply's first clause is heard before the rest is synthesised, a
short one is cut once at a phrase boundary without an audible gap, and after an interrupt no
new piece starts synthesising. Real pipeline, real Piper voice; the checks are on the order of
instants and on the audio, not on how long anything took."""

from __future__ import annotations

import numpy as np
from support.fake_llm import Conversation

from voicecli.core.config import Config
from voicecli.core.messages import KEY, Interrupt
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.sentences import first_pieces, split_phrase
from voicecli.reply.speakable import Speakable
from voicecli.reply.tts import JOIN_PAD_S, SILENT, TTS_RATE

LONG = "What can you do?"  # the help skill: a long first sentence with commas, then another


def piper_chat(engines, piper_tts) -> Conversation:
    config = Config()
    config.tts.voice = "piper:joe"
    return Conversation(Engines(stt=engines.stt, tts=piper_tts), config)


def test_first_audio_of_a_long_reply_comes_before_its_synthesis_ends(engines, piper_tts):
    chat = piper_chat(engines, piper_tts)
    with chat:
        reply = chat.ask(LONG).text
    said = [text for _, text in chat.tts.said]
    first = first_pieces(Speakable().convert(reply.split(". ")[0] + "."), phrases=True)
    assert said[: len(first)] == first
    assert len(first) >= 3 and len(said) >= 4, said
    assert len(chat.sink.writes) == len(said)  # one piece, one write: nothing held back
    # the first piece reached the sink before the later pieces were even started
    assert chat.sink.writes[0] < chat.tts.said[1][0] < chat.tts.done[-1]
    # and every piece was written as soon as it was made, in order
    for made, written in zip(chat.tts.done, chat.sink.writes, strict=True):
        assert made <= written
    assert chat.tts.done[0] < chat.tts.said[-1][0]


def test_after_an_interrupt_no_new_piece_is_synthesised(engines, piper_tts):
    chat = piper_chat(engines, piper_tts)
    with chat:
        chat.sink.on_write = lambda: chat.pipeline.interrupt(Interrupt(KEY))  # at the first audio
        chat.ask(LONG)
        cut = chat.wait_for("playback", state="cut")
    assert len(chat.tts.said) == 1 and len(chat.sink.writes) == 1, chat.tts.said
    assert cut.turn == 1


def silence_ms(pcm: np.ndarray, end: bool) -> float:
    loud = np.flatnonzero(np.abs(pcm) > SILENT)
    return 1000 * (len(pcm) - 1 - loud[-1] if end else loud[0]) / TTS_RATE


def test_a_short_reply_is_cut_at_a_phrase_and_the_join_has_no_gap(engines, piper_tts):
    chat = piper_chat(engines, piper_tts)
    with chat:
        assert chat.ask("What is 7 times 6?").text == "7 times 6 is 42."
    assert [text for _, text in chat.tts.said] == split_phrase("7 times 6 is 42.")
    assert [text for _, text in chat.tts.said] == ["7 times 6", "is 42."]
    first, rest = chat.sink.audio
    join = silence_ms(first, end=True) + silence_ms(rest, end=False)
    # Piper alone leaves ~130 ms here; trimmed, about a pause between words
    untrimmed = silence_ms(piper_tts.synthesize("7 times 6"), end=True)
    assert join <= 2000 * JOIN_PAD_S + 1 < untrimmed, (join, untrimmed)
    assert silence_ms(rest, end=True) == silence_ms(piper_tts.synthesize("is 42."), end=True)
