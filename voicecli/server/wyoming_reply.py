"""The blocking halves of tts and handle, run on the Wyoming server's call workers.

Why timers are refused: Home Assistant closes the connection after ``handled``, so a timer set
here could never announce itself; the user hears that instead of a promise that is not kept.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from voicecli.reply.brain import FALLBACK, ReplyControl, ReplyFailed
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import timers
from voicecli.reply.speakable import speakable
from voicecli.reply.tts import TTS_RATE, TextToSpeech

NO_TIMERS = "Timers are not available over Home Assistant. Use Home Assistant's own timers."


def synthesize(backend, text: str, voice: str | None) -> tuple[np.ndarray, int]:
    """``text`` spoken (int16 mono) and its rate; ``voice`` an id from ``info`` (a voice other
    than the configured one is loaded on first use and kept)."""
    tts = backend.engines.tts
    if voice and voice != tts.config.voice:
        if voice not in backend.voices:  # unknown: TtsUnavailable
            backend.voices[voice] = TextToSpeech(replace(tts.config, voice=voice))
        tts = backend.voices[voice]
    return tts.synthesize(speakable(text)), TTS_RATE


def answer(backend, text: str, conversation: Conversation) -> tuple[bool, str]:
    """(handled, reply) for one request of a conversation; the exchange joins its history."""
    text = text.strip()
    if not text:
        return False, "I didn't hear anything."
    context = SkillContext(conversation)  # no pipeline: no timers, no thermal monitor
    if timers.answer(text, context) is not None:  # a timer request: say why not
        reply = NO_TIMERS
    else:
        try:
            reply = "".join(backend.brain.stream(text, context, ReplyControl()))
        except ReplyFailed as failed:
            reply = failed.spoken
    conversation.add(text, reply)
    return reply != FALLBACK, reply
