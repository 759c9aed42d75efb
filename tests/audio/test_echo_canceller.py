"""The WebRTC echo canceller wrapper on real synthesized speech through a simulated room."""

import json
import subprocess
import sys
import threading

import jsonschema
import numpy as np
import pytest
from support.echo import reply_audio, room_echo

from voicecli.audio.echo_canceller import (
    PIECE,
    EchoCanceller,
    EchoUnavailable,
    measure_delay,
    unavailable_reason,
)
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.events import Echo

BLOCK_LIVEKIT = "import sys; sys.modules['livekit'] = None; sys.modules['livekit.rtc'] = None\n"


@pytest.fixture(scope="module")
def reply() -> np.ndarray:
    return reply_audio()


def _run(canceller: EchoCanceller, reply: np.ndarray, mic: np.ndarray) -> np.ndarray:
    out = []
    for start in range(0, len(reply) - FRAME + 1, FRAME):
        canceller.reverse(reply[start : start + FRAME])
        out.append(canceller.process(mic[start : start + FRAME]))
    return np.concatenate(out)


def test_cancels_a_short_tail_room_and_measures_its_delay(reply):
    mic = room_echo(reply, delay_ms=60, rt60=0.2)
    canceller = EchoCanceller()
    out = _run(canceller, reply, mic)
    assert len(out) == len(mic) - len(mic) % FRAME  # as many samples out as in
    stats = canceller.stats()
    assert stats.state == "converged"
    assert stats.erle_db >= 25
    assert stats.delay_ms == pytest.approx(60, abs=2)
    tail = slice(2 * SAMPLE_RATE, len(out))  # after convergence
    before = np.mean(mic[tail] ** 2)
    after = np.mean(out[tail] ** 2)
    assert 10 * np.log10(before / after) >= 25


def test_settled_on_the_echo_or_on_none(reply):
    """Barge-in is armed once the canceller removes the echo -- or once the microphone does
    not hear the speaker at all (headphones: nothing to converge on); never while the echo
    comes through uncancelled (the first half second of a room)."""
    room, echo = EchoCanceller(), room_echo(reply, 60, 0.2)
    for start in range(0, 8 * FRAME, FRAME):  # 256 ms of a real echo: not yet
        room.reverse(reply[start : start + FRAME])
        room.process(echo[start : start + FRAME])
    assert not room.settled
    _run(room, reply, echo)
    assert room.settled and room.stats().state == "converged"
    assert room.passed < 0.01  # the echo alone: under 1 % of the power let through

    rng = np.random.default_rng(3)
    hiss = (rng.standard_normal(len(reply)) * 10 ** (-70 / 20)).astype(np.float32)
    # headphones: the voice then passes untouched (the module would suppress it while audio
    # plays) until the next reply; the reversed reply is speech with no echo of the reply in it
    headphones = EchoCanceller()
    voice = reply[::-1] * 0.3
    mic = np.concatenate(
        (hiss[: 2 * SAMPLE_RATE], voice[: 2 * SAMPLE_RATE] + hiss[: 2 * SAMPLE_RATE])
    )
    out = _run(headphones, reply[: len(mic)], mic)
    assert headphones.settled and headphones.no_echo
    lag = measure_delay(mic[: len(out)], out, 1600)
    assert lag == PIECE + 128  # the raw microphone, as late as the module's output
    kept = out[lag + 2 * SAMPLE_RATE :]
    assert np.allclose(kept, mic[2 * SAMPLE_RATE : len(out) - lag], atol=1e-4)  # int16 steps
    headphones.unsettle()
    assert not headphones.settled and not headphones.no_echo

    # a long output latency: 700 ms before the echo comes back, over a faint noise floor
    # (-70 dBFS, which the module takes to zero: an "ERLE" of silence); then only a
    # quarter of a second of echo
    late = EchoCanceller()
    delayed = room_echo(reply, 700, 0.2) + hiss
    for start in range(0, 95 * SAMPLE_RATE // 100 - FRAME, FRAME):
        late.reverse(reply[start : start + FRAME])
        late.process(delayed[start : start + FRAME])
        assert not late.settled, "armed by the silence before the echo arrived"


def test_the_users_voice_passes(reply):
    """Near-end speech alone (nothing played) comes out about 18 ms late and with its power."""
    canceller = EchoCanceller()
    silent = np.zeros_like(reply)
    out = []
    for start in range(0, len(reply) - FRAME + 1, FRAME):
        canceller.reverse(silent[start : start + FRAME])
        out.append(canceller.process(reply[start : start + FRAME]))
    out = np.concatenate(out)
    lag = measure_delay(reply[: len(out)], out, 1600)
    assert PIECE <= lag <= 2 * PIECE  # our 10 ms piece, plus the module's own 8 ms
    kept = out[lag:]
    assert canceller.stats().state == "idle"
    source = reply[: len(kept)]
    assert np.mean(kept**2) > 0.8 * np.mean(source**2)  # less than 1 dB lost
    assert np.corrcoef(kept, source)[0, 1] > 0.7  # the same waveform (its filters bend it)


def test_odd_lengths_are_cut_in_pieces_and_never_reach_native_code(reply):
    canceller = EchoCanceller()
    for n in (1, 159, 161, 333, 512, 7):
        canceller.reverse(reply[:n])
        assert len(canceller.process(reply[:n])) == n
    with pytest.raises(ValueError, match="not 160"):
        canceller._frame(np.zeros(100, dtype=np.int16))


def test_measure_delay(reply):
    window = reply[SAMPLE_RATE : 2 * SAMPLE_RATE]
    mic = np.concatenate((np.zeros(800, dtype=np.float32), window))[: len(window)]
    assert measure_delay(window, mic, 8000) == 800
    assert measure_delay(window, np.zeros_like(window), 8000) is None


def test_native_threads_are_not_python_threads():
    """The module's three native threads live until exit; the autouse thread check lists
    Python threads only, so they are exempt by construction -- this keeps it that way."""
    before = set(threading.enumerate())
    EchoCanceller()
    assert set(threading.enumerate()) == before


def test_unavailable_with_the_import_blocked():
    code = BLOCK_LIVEKIT + (
        "from voicecli.audio.echo_canceller import unavailable_reason, EchoCanceller\n"
        "print(unavailable_reason())\n"
        "EchoCanceller()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "WebRTC echo cancellation unavailable" in result.stdout
    assert "pip install" in result.stdout
    assert "EchoUnavailable" in result.stderr
    assert unavailable_reason() is None  # here it loads
    assert issubclass(EchoUnavailable, RuntimeError)


def test_echo_events_follow_the_schema(reply):
    from support.schema import validate_event

    from voicecli.audio.echo_canceller import MonitoredCanceller
    from voicecli.audio.playback_monitor import PlaybackMonitor

    monitor = PlaybackMonitor()
    events = []
    live = MonitoredCanceller(EchoCanceller(), monitor, events.append)
    mic = room_echo(reply, delay_ms=40, rt60=0.2)
    for start in range(0, len(reply) - FRAME + 1, FRAME):
        monitor.append(reply[start : start + FRAME], audible=True)
        live.process(mic[start : start + FRAME], monitor.count)
    assert [e.state for e in events][-1] == "converged"
    assert events[-1].delay_ms == pytest.approx(40, abs=2)
    assert live.settled()
    monitor.reply_started()  # the echo path may move: no barge-in until it settles again
    live.process(mic[:FRAME], monitor.count)
    assert not live.settled()
    for start in range(0, SAMPLE_RATE, FRAME):
        monitor.append(reply[start : start + FRAME], audible=True)
        live.process(mic[start : start + FRAME], monitor.count)
    assert live.settled()
    for event in events:
        validate_event(json.loads(event.to_json()))
    off = Echo(state="off", reason="WebRTC echo cancellation unavailable (no module)")
    validate_event(json.loads(off.to_json()))
    with pytest.raises(jsonschema.ValidationError):
        validate_event({**json.loads(off.to_json()), "state": "on"})


def test_bypass_returns_the_raw_microphone_with_the_same_lag(reply):
    """While nothing plays, the live path passes the raw microphone (the module alone costs
    WER there: benchmarks/ECHO.md), lagged like the processed output so switching is seamless;
    the module itself re-filters the same audio (it high-passes below ~100 Hz)."""
    mic = 0.5 * reply[: 2 * SAMPLE_RATE]
    silent = np.zeros(FRAME, np.float32)
    raw, processed = EchoCanceller(), EchoCanceller()
    out_raw, out_processed = [], []
    for i in range(0, len(mic) - FRAME + 1, FRAME):
        raw.reverse(silent)
        processed.reverse(silent)
        out_raw.append(raw.process(mic[i : i + FRAME], bypass=True))
        out_processed.append(processed.process(mic[i : i + FRAME]))
    out_raw, out_processed = np.concatenate(out_raw), np.concatenate(out_processed)
    lag = 18 * SAMPLE_RATE // 1000
    expected = mic[: len(out_raw) - lag]
    assert np.max(np.abs(out_raw[lag:] - expected)) < 1e-4, "raw (int16), 18 ms late"
    assert np.max(np.abs(out_processed[lag:] - expected)) > 0.01, "the module changes it"


class CountingModule:
    """The real module, with its calls counted."""

    def __init__(self, module) -> None:
        self.module = module
        self.calls = 0

    def __getattr__(self, name):
        self.calls += 1
        return getattr(self.module, name)


def test_hands_free_idle_skips_the_module_and_gives_the_same_audio(reply):
    """Hands-free (a wake word), the module is not run while nothing plays: the output is the
    same raw, lagged microphone as the bypass, and the module is not called."""
    mic = 0.5 * reply[:SAMPLE_RATE]
    bypassed, skipped = EchoCanceller(), EchoCanceller()
    skipped._apm = counting = CountingModule(skipped._apm)
    out_bypassed, out_skipped = [], []
    for i in range(0, len(mic) - FRAME + 1, FRAME):
        out_bypassed.append(bypassed.process(mic[i : i + FRAME], bypass=True))
        out_skipped.append(skipped.process(mic[i : i + FRAME], bypass=True, native=False))
    assert np.array_equal(np.concatenate(out_skipped), np.concatenate(out_bypassed))
    assert counting.calls == 0
    skipped.process(mic[:FRAME], bypass=False, native=False)  # speaking: the module runs
    assert counting.calls > 0


def test_after_the_path_moved_it_settles_only_once_the_module_found_it_again(reply):
    """The echo path moves by 200 ms (as every cut moved it live before the speaker took back
    what the aborted stream never played; an underrun still does): the module cancels the
    first half second (the old delay still holds for what was on its way), then lets echo
    through while it finds the new delay. Barge-in must not arm on that first half second,
    even when a new reply starts before it settled again."""
    speech = np.concatenate([reply] * 3)
    mic = room_echo(speech, 300, 0.2)
    jump, ghost = 188 * FRAME, 200 * SAMPLE_RATE // 1000  # 6 s in
    fed = np.concatenate((speech[:jump], speech[jump : jump + ghost], speech[jump:]))
    canceller = EchoCanceller()
    settled_at, leaks = None, []
    for start in range(0, len(mic) - FRAME + 1, FRAME):
        if start == jump:
            assert canceller.settled
            canceller.unsettle(moved=True)
        if start == jump + 4 * FRAME:
            canceller.unsettle()  # the next reply: the path has not been found again yet
        canceller.reverse(fed[start : start + FRAME])
        out = canceller.process(mic[start : start + FRAME])
        if start >= jump:
            leaks.append(
                float(np.sum(out**2)) / max(float(np.sum(mic[start : start + FRAME] ** 2)), 1e-12)
            )
            if canceller.settled and settled_at is None:
                settled_at = (start - jump) / SAMPLE_RATE
    worst = int(np.argmax(leaks)) * FRAME / SAMPLE_RATE
    assert max(leaks) > 0.1, "the module re-found the moved path at once: nothing to guard"
    assert settled_at is not None, "never settled again"
    assert settled_at > worst, f"armed at {settled_at:.2f} s, before the leak at {worst:.2f} s"
