"""The linear echo filter the listener hears a barge-in through, on real speech: an espeak-ng
reply through a simulated room, and a real recorded voice over it."""

import json

import numpy as np
import pytest
from support.echo import reply_audio, room_echo

from voicecli.audio.echo_canceller import EchoCanceller
from voicecli.audio.echo_guard import MIN_SPEECH_S
from voicecli.audio.file import load_audio
from voicecli.audio.linear_echo import BLOCK, LinearEcho
from voicecli.core.audio_format import FRAME, SAMPLE_RATE

LAG = 288  # as late as the WebRTC module's output (echo_canceller)


@pytest.fixture(scope="module")
def reply() -> np.ndarray:
    return np.concatenate([reply_audio()] * 2)  # about 18 s


@pytest.fixture(scope="module")
def voice(shared_audio) -> np.ndarray:
    """A real speaker's command (shared/audio/real), about as loud as the echo."""
    folder = shared_audio / "real" / "utterances"
    truth = json.loads((folder / "truth.json").read_text())
    name = next(n for n, v in truth.items() if v["seconds"] >= 2.0 and v["kind"] != "word")
    audio = load_audio(folder / name)
    return (audio * (0.05 / np.sqrt(np.mean(audio**2)))).astype(np.float32)


def _erle(mic: np.ndarray, out: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(mic**2) / np.sum(out**2)))


@pytest.mark.parametrize(("delay_ms", "rt60"), [(60, 0.2), (150, 0.4)])
def test_learns_the_echo_path_of_a_room(reply, delay_ms, rt60):
    delay = delay_ms * SAMPLE_RATE // 1000
    mic = room_echo(reply, delay_ms, rt60, seed=7)
    linear = LinearEcho(SAMPLE_RATE, LAG)
    linear.locate(delay)
    out = []
    for start in range(0, len(mic) - FRAME + 1, FRAME):
        linear.reference(reply[start : start + FRAME])
        out.append(linear.process(mic[start : start + FRAME], echo_alone=True))
    out = np.concatenate(out)[LAG:]
    late = slice(8 * SAMPLE_RATE, len(out))  # after 8 s of echo
    assert _erle(mic[late], out[late]) >= 20
    assert linear.erle_db() >= 20


def test_a_voice_over_the_reply_comes_through_whole(reply, voice):
    """The voice comes out as it went in, where the module's suppressor takes pieces of it
    away -- even told that every block is echo alone (the module's own signal says so while
    its suppressor silences a voice): the filter does not adapt on what it cannot explain."""
    delay = 60 * SAMPLE_RATE // 1000
    echo = room_echo(reply, 60, 0.2, seed=7)
    at = 10 * SAMPLE_RATE // FRAME * FRAME  # after 10 s of the reply alone
    near = np.zeros_like(echo)
    near[at : at + len(voice)] = voice[: len(echo) - at]
    mic = echo + near
    linear, module = LinearEcho(SAMPLE_RATE, LAG), EchoCanceller()
    linear.locate(delay)
    outs, cleaned = [], []
    for start in range(0, len(mic) - FRAME + 1, FRAME):
        frame = slice(start, start + FRAME)
        linear.reference(reply[frame])
        outs.append(linear.process(mic[frame], echo_alone=True))
        module.reverse(reply[frame])
        cleaned.append(module.process(mic[frame]))
    heard, suppressed = np.concatenate(outs)[LAG:], np.concatenate(cleaned)[LAG:]
    spoken = slice(at, min(at + len(voice), len(heard)))
    heard, suppressed, truth = heard[spoken], suppressed[spoken], near[spoken]

    def kept(x: np.ndarray) -> float:  # how much of the voice is in x (1: all of it)
        return float(np.dot(x, truth) / np.dot(truth, truth))

    def correlation(x: np.ndarray) -> float:
        return float(np.corrcoef(x, truth)[0, 1])

    assert kept(heard) == pytest.approx(1.0, abs=0.05)
    assert correlation(heard) > 0.95
    assert correlation(heard) > correlation(suppressed)
    assert _erle(echo[spoken], heard - truth) >= 15  # and the echo under it is gone


def test_a_moved_delay_keeps_the_learnt_room(reply):
    """A restarted output stream shifts the echo in the reference stream (audio that was
    never played); told the new delay, the filter slides along and keeps cancelling."""
    delay, ghost = 60 * SAMPLE_RATE // 1000, 3200
    at = 8 * SAMPLE_RATE // FRAME * FRAME
    played = np.concatenate((reply[:at], reply[at + ghost :]))  # what the room heard
    mic = room_echo(played, 60, 0.2, seed=7)
    linear = LinearEcho(SAMPLE_RATE, LAG)
    linear.locate(delay)
    out = []
    for start in range(0, len(mic) - FRAME + 1, FRAME):
        written = slice(start, start + FRAME)  # the reference stream: every sample written
        if start >= at:
            written = slice(start + ghost, start + ghost + FRAME)
        if start == at:
            linear.reference(reply[at : at + ghost])  # written, then dropped by the restart
            linear.locate(delay - ghost)
        linear.reference(reply[written])
        out.append(linear.process(mic[start : start + FRAME], echo_alone=True))
    out = np.concatenate(out)[LAG:]
    after = slice(at + SAMPLE_RATE // 4, at + SAMPLE_RATE)  # the first second after the move
    assert _erle(mic[after], out[after]) >= 15


def test_as_many_samples_out_as_in_lag_late():
    linear = LinearEcho(SAMPLE_RATE, LAG)
    signal = np.random.default_rng(1).standard_normal(5000).astype(np.float32)
    pieces = [signal[i : i + 333] for i in range(0, 5000, 333)]  # not whole blocks
    out = np.concatenate([linear.process(p, echo_alone=False) for p in pieces])
    assert len(out) == len(signal)
    assert np.array_equal(out[LAG:], signal[: len(signal) - LAG])  # no delay known: untouched
    with pytest.raises(ValueError):
        LinearEcho(SAMPLE_RATE, BLOCK - 2)


def test_the_canceller_finds_a_voice_over_the_reply(reply, voice):
    """``EchoCanceller.double_talk``: where the linear filter leaves more than echo. It holds
    for most frames of a real voice over the reply and for few of the reply alone, never as
    many in a row as a barge-in needs -- the vote a barge-in gets when the module's
    suppressor takes the voice to silence."""
    echo = room_echo(reply, 60, 0.2, seed=7)
    at = 10 * SAMPLE_RATE // FRAME * FRAME  # after 10 s of the reply alone
    near = np.zeros_like(echo)
    near[at : at + len(voice)] = voice[: len(echo) - at]
    mic = echo + near
    canceller = EchoCanceller()
    talking, alone = [], []
    for start in range(0, len(mic) - FRAME + 1, FRAME):
        canceller.reverse(reply[start : start + FRAME])
        canceller.process(mic[start : start + FRAME])
        late = near[max(0, start - LAG) : start - LAG + FRAME]  # the frame it judged
        if start >= 6 * SAMPLE_RATE and not late.any():
            alone.append(canceller.double_talk())
        elif late.any() and np.sqrt(np.mean(late**2)) > 0.02:  # the voice, not its pauses
            talking.append(canceller.double_talk())
    assert len(talking) > 20 and len(alone) > 100
    assert np.mean(talking) >= 0.6, f"found in {np.mean(talking):.0%} of the voiced frames"
    assert np.mean(alone) <= 0.05, f"found in {np.mean(alone):.0%} of the reply alone"
    longest = max(len(run) for run in "".join("x" if a else " " for a in alone).split(" "))
    assert longest < MIN_SPEECH_S * SAMPLE_RATE / FRAME, "never as long as a barge-in's speech"
