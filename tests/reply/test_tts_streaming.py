"""Streaming speech: a long reply's first clause is heard before the rest is synthesised, and
after an interrupt no new piece starts synthesising. Real pipeline, real Piper voice; the
checks are on the order of instants, not on how long anything took."""

from __future__ import annotations

from support.fake_llm import Conversation

from voicecli.core.config import Config
from voicecli.core.messages import KEY, Interrupt
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.sentences import split_clauses
from voicecli.reply.speakable import Speakable

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
    first_sentence = Speakable().convert(reply.split(". ")[0] + ".")
    assert said[: len(split_clauses(first_sentence))] == split_clauses(first_sentence)
    assert len(split_clauses(first_sentence)) >= 3 and len(said) >= 4, said
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
