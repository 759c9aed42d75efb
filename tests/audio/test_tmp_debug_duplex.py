import numpy as np
import pytest
from support.pulse import LiveRun
import importlib

m = importlib.import_module("tests.audio.test_live_duplex") if False else None

from voicecli.audio import echo_guard as eg


def test_debug(engines, pulse, echo_path, tmp_path):
    from voicecli.audio.file import write_wav
    from voicecli.reply.synth import compose

    story = tmp_path / "s.wav"
    seven = tmp_path / "q.wav"
    write_wav(story, 0.5 * compose(0.3, "Tell me a story.", 0.5), 16000)
    from voicecli.core.config import TtsConfig
    from voicecli.reply.tts import TextToSpeech
    from voicecli.audio.file import resample
    tts = TextToSpeech(TtsConfig(voice="piper:joe"), deterministic=True)
    pcm = tts.synthesize("Set a timer for five minutes.").astype(np.float32) / 32768
    q = resample(pcm, 22050, 16000)
    def ar(x):
        b = x[: len(x) - len(x) % 160].reshape(-1, 160); p = np.mean(b**2, axis=1); return float(np.sqrt(np.mean(p[p > 0.01 * p.max()])))
    ref = compose("Sorry, I can't help with that yet.")
    q = q * (0.5 * ar(ref) / ar(q))
    print("levels", ar(ref), ar(q), ar(0.5 * compose(0.2, "What is seven times six?", 0.5)))
    write_wav(seven, np.concatenate((np.zeros(3200), q, np.zeros(8000))).astype(np.float32), 16000)
    log = []
    with LiveRun(engines, pulse, barge_in=None) as run:
        g = run.audio.guard
        orig = g._is_speech
        vp = g._vad.probability
        last = [0.0]

        def prob(x):
            last[0] = vp(x)
            return last[0]

        g._vad.probability = prob

        def spy(residual, mic, echo):
            r = orig(residual, mic, echo)
            log.append(
                (
                    round(last[0], 2),
                    round(float(np.sqrt(np.mean(residual**2))), 4),
                    g.cancelled(),
                    r,
                )
            )
            return r

        g._is_speech = spy
        run.say(story).wait(10)
        run.wait_for(lambda e: e.type == "playback" and e.state == "started", 20)
        run.settle(2.0)
        n0 = len(log)
        run.say(seven).wait(10)
        run.settle(6.0)
    for x in log[n0 - 3: n0 + 60]:
        print(x)
    for e in run.events:
        if e.type in (
            "playback",
            "barge_in",
            "transcript",
            "reply",
            "speech_start",
            "speech_end",
            "warning",
        ):
            print(round(e.wall, 2), e)
    print(run.of_type("echo"))
