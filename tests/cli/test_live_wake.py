"""``voicecli chat --wake-word hey_jarvis`` on the virtual microphone and speaker, as a user runs
it: asleep -> wake word -> question answered -> follow-up answered without the wake word ->
the window expires -> a question without the wake word is ignored. Also the wake latency:
from the end of the spoken wake phrase to the ``wake`` event (target 200 ms).

The positive is "hey jarvis" said by the Piper voice, the most reliable generated positive
found (bench --wake: 36/36 clean and noisy clips, peak 0.996). espeak-ng's "okay nabu" also
wakes okay_nabu (18/18 in files) but live only just above its cutoff (0.85-0.87 in three
runs), and espeak-ng's "hey jarvis" never wakes hey_jarvis.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from support.cli import command
from support.pulse import session_daemon, speaker_kept_awake, stop_recording
from support.wake import chimed, scene

from voicecli.audio.file import write_wav
from voicecli.core.clock import SAMPLE_RATE

pytestmark = [pytest.mark.live, pytest.mark.slow]
FOLLOW_UP_S = 4


@pytest.fixture(scope="module")
def pulse(request):
    return session_daemon(request.config)


class Chat:
    """The program's JSON Lines, read from the file its stdout goes to."""

    def __init__(self, pulse, out: Path) -> None:
        self.out = out
        env = {**pulse.env, "VOICECLI_WAKE_FOLLOW_UP_S": str(FOLLOW_UP_S)}
        argv = command("chat", "--json", "--wake-word", "hey_jarvis")
        with open(out, "w") as stdout:
            self.proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE
            )

    def events(self) -> list[dict]:
        lines = self.out.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_for(self, predicate, timeout: float, after: int = 0) -> tuple[int, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, event in enumerate(self.events()):
                if index >= after and predicate(event):
                    return index, event
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            time.sleep(0.05)
        shown = [e for e in self.events() if e["type"] not in ("level", "system")]
        raise AssertionError(f"timed out; events: {shown[-12:]}")

    def finals(self) -> list[str]:
        return [e["text"] for e in self.events() if e["type"] == "transcript" and e["final"]]


class Scene:
    """A scene written to a WAV before the run (no synthesis while the window is open)."""

    def __init__(self, path: Path, *parts) -> None:
        self.audio, self.spans = scene(*parts)
        self.path = path
        write_wav(path, self.audio, SAMPLE_RATE)

    def say(self, pulse) -> float:
        """Play it into the microphone; returns when it started (monotonic)."""
        started = time.monotonic()
        pulse.play(self.path).wait(len(self.audio) / SAMPLE_RATE + 10)
        return started


def is_state(state):
    return lambda e: e["type"] == "wake_state" and e["state"] == state


def test_hands_free_conversation_on_the_microphone(pulse, tmp_path):
    ignored = Scene(tmp_path / "ignored.wav", 0.3, "what is the weather", 1.5)
    # the question follows at once: it is said while the chime plays (the mic stays open)
    wake_phrase = ("hey jarvis", "piper:joe", 140)
    woken = Scene(tmp_path / "wake.wav", 0.3, wake_phrase, 0.2, "what time is it", 0.3)
    follow_up = Scene(tmp_path / "follow.wav", 0.3, "what day is it", 0.3)
    late = Scene(tmp_path / "late.wav", 0.3, "what time is it", 2.0)
    chat = Chat(pulse, tmp_path / "events.jsonl")
    try:
        chat.wait_for(lambda e: e["type"] == "level", 120)  # models loaded, microphone open
        chat.wait_for(is_state("asleep"), 10)
        ignored.say(pulse)
        assert chat.finals() == [], "answered without the wake word"

        with speaker_kept_awake(pulse):
            speaker = pulse.record_speaker(tmp_path / "speaker.wav")
            started = woken.say(pulse)
            _, wake = chat.wait_for(lambda e: e["type"] == "wake", 10)
            latency_ms = (wake["wall"] - (started + woken.spans[0][2])) * 1000
            print(f"\nwake word end -> wake event: {latency_ms:.0f} ms (p={wake['probability']})")
            assert latency_ms < 200 * 5  # target 200 ms, 5x margin (paplay's latency included)
            index, _ = chat.wait_for(is_state("follow_up"), 30)
            stop_recording(speaker)
        assert len(chat.finals()) == 1 and "time" in chat.finals()[0].lower()
        assert chimed(tmp_path / "speaker.wav")

        follow_up.say(pulse)  # no wake word, inside the window
        index, _ = chat.wait_for(is_state("follow_up"), 30, after=index + 1)
        assert len(chat.finals()) == 2, chat.finals()
        chat.wait_for(is_state("asleep"), FOLLOW_UP_S + 5, after=index + 1)

        late.say(pulse)  # asleep again: ignored
        assert len(chat.finals()) == 2, chat.finals()
        assert sum(e["type"] == "wake" for e in chat.events()) == 1
        assert [e["type"] for e in chat.events()].count("reply") >= 2
    finally:
        chat.proc.send_signal(2)
        assert chat.proc.wait(15) == 130
