"""Thermal protection switches the voice: a made-up sensor at 90 °C and replies come from
espeak-ng; cooled, Piper speaks again. Real pipeline, real Piper and espeak-ng."""

from __future__ import annotations

import itertools

from support.fake_llm import Conversation
from support.thermal_fakes import FakeSysfs

from voicecli.core.config import Config, TtsConfig
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.tts import TextToSpeech
from voicecli.thermal.monitor import ThermalMonitor

QUESTION = "What is seven times six?"


def test_hot_replies_come_from_espeak_and_piper_returns_on_cooling(engines, piper_tts, tmp_path):
    tree = FakeSysfs(tmp_path)
    sensor = tree.zone(0, "x86_pkg_temp", 60.0)
    config = Config()
    config.tts.voice = "piper:joe"
    monitor = ThermalMonitor(tree.config(interval_s=0.1), lambda e: chat.bus.publish(e))
    chat = Conversation(Engines(stt=engines.stt, tts=piper_tts), config, thermal=monitor)
    monitor.start()  # running: the pipeline follows it, and leaves stopping it to us
    lengths = {}
    try:
        with chat:
            for state, celsius in (("normal", 60.0), ("hot", 90.0), ("normal", 70.0)):
                tree.set(sensor, celsius)
                event = chat.wait_for("thermal", 5.0, state=state)
                assert ("light_voice" in event.actions) == (state == "hot")
                chat.events.clear()
                before = len(chat.sink.audio)
                chat.ask(QUESTION)
                lengths[celsius] = sum(len(pcm) for pcm in chat.sink.audio[before:])
            # Piper speaks a reply in pieces (a phrase cut), espeak-ng in one
            assert [e for e, _ in itertools.groupby(chat.tts.engines)] == [
                "piper",
                "espeak-ng",
                "piper",
            ]
            assert chat.tts.engines.count("espeak-ng") == 1
    finally:
        assert monitor.stop()
        piper_tts.light = False
    hot = chat.tts.said[chat.tts.engines.index("espeak-ng")][1]
    espeak = len(TextToSpeech(TtsConfig(voice="gmw/en-us")).synthesize(hot))
    assert abs(lengths[90.0] - espeak) < 0.02 * espeak  # the hot reply's audio is espeak-ng's
    assert lengths[60.0] == lengths[70.0] != lengths[90.0]  # Piper's, the same both times
