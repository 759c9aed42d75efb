"""The speaker's reference stays in step with what reached the air across a cut.

Aborting the output stream drops what its buffer still held (about 250 ms here). Before the
speaker took those samples back from the reference, every cut moved the echo path by a
buffer's length in the reference's sample count, and the WebRTC module leaked echo for a
second or more while it found the new delay (benchmarks/DUPLEX.md, run 7). Here, on the
virtual devices with ``module-loopback``: a burst is played and heard, a second one is cut
while still buffered, a third is played; the first and third must reach the microphone the
same number of samples after their place in the reference. (Bursts before them, until one
comes back, make sure the microphone and the newly loaded loopback deliver.)
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from voicecli.audio.devices import sounddevice
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.audio.speaker import SpeakerSink
from voicecli.core.audio_format import SAMPLE_RATE

pytestmark = [pytest.mark.slow, pytest.mark.live]

BURST = (0.5 * np.sin(np.arange(320) * 0.9) * 32767).astype(np.int16)  # 20 ms


class RecordingMonitor(PlaybackMonitor):
    """Keeps every block with the sample index it was appended at."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[int, np.ndarray]] = []

    def append(self, samples, audible, plays_at=None) -> None:
        self.blocks.append((self.count, samples.copy()))
        super().append(samples, audible, plays_at)


def _onsets(blocks, after: int = 0) -> list[int]:
    """Index of the first loud sample of every burst (bursts at least 0.3 s apart), from
    sample ``after`` on."""
    found: list[int] = []
    for start, samples in blocks:
        loud = np.flatnonzero(np.abs(samples) > 0.1) + start
        for i in loud[loud >= after]:
            if not found or i > found[-1] + 0.3 * SAMPLE_RATE:
                found.append(int(i))
    return found


class Bench:
    """The speaker, a recording monitor, and the microphone, all real streams."""

    def __init__(self) -> None:
        self.monitor = RecordingMonitor()
        self.heard: list[np.ndarray] = []
        self.mic = sounddevice().InputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="float32",
            callback=lambda data, *_: self.heard.append(data[:, 0].copy()),
        )
        self.sink = SpeakerSink(monitor=self.monitor, source_rate=SAMPLE_RATE)
        self.mic.start()

    def close(self) -> None:
        self.sink.close()
        self.mic.abort()
        self.mic.close()

    @property
    def recorded(self) -> int:
        return sum(map(len, self.heard))

    def wake(self) -> None:
        """Play bursts until one comes back: under load, the microphone's stream and a newly
        loaded loopback can take seconds to deliver (a full run once recorded 1 s of silence
        in 2.5 s), and a burst played before that is lost."""
        self.wait_until_recorded(SAMPLE_RATE // 10)
        for _ in range(10):
            if self.echo_delay(timeout_s=1.0) is not None:
                return
        raise AssertionError("no burst came back through the loopback in 10 tries")

    def echo_delay(self, timeout_s: float = 5.0) -> int | None:
        """Play a burst and wait for its echo: from its place in the reference's sample count
        to its place in the microphone's (None: it did not come back in ``timeout_s``)."""
        recorded = self.recorded
        sent = self.play_a_burst()
        self.sink.end_reply()
        deadline = time.monotonic() + timeout_s
        while not (echo := _onsets([(0, np.concatenate([[], *self.heard]))], after=recorded)):
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)
        self.wait_until_recorded(echo[0] + SAMPLE_RATE // 2)  # all of its echo
        return echo[0] - sent

    def wait_until_recorded(self, samples: int) -> None:
        deadline = time.monotonic() + 10
        while self.recorded < samples:
            assert time.monotonic() < deadline, "the microphone stopped delivering"
            time.sleep(0.02)

    def play_a_burst(self) -> int:
        """Queue a burst; once the output callback has taken it (it plays ~0.22 s later), its
        place in the reference."""
        blocks, deadline = len(self.monitor.blocks), time.monotonic() + 5
        self.sink.write(BURST)
        while not (sent := _onsets(self.monitor.blocks[blocks:])):
            assert time.monotonic() < deadline, "the output callback never took the burst"
            time.sleep(0.005)
        return sent[0]

    def cut_a_burst(self) -> None:
        """Play a burst and cut it while still buffered; then wait until whatever of it played
        has come back."""
        self.play_a_burst()
        ahead = self.monitor.audible_until - time.monotonic()
        assert self.sink.cut(), f"cut found nothing to play ({ahead:+.3f} s of the burst ahead)"
        self.sink.end_reply(wait=False)
        self.wait_until_recorded(self.recorded + SAMPLE_RATE)

    def taken_back(self) -> int:
        """The most a block started before the end of the one before it: what a cut took back."""
        starts = [start for start, _ in self.monitor.blocks]
        ends = [start + len(block) for start, block in self.monitor.blocks]
        return max(end - start for end, start in zip(ends[:-1], starts[1:], strict=True))


def test_a_cut_does_not_move_the_echo_path(pulse, echo_path):
    bench = Bench()
    try:
        bench.wake()
        first = bench.echo_delay()
        bench.cut_a_burst()
        third = bench.echo_delay()
    finally:
        bench.close()
    assert first is not None and third is not None, "a burst played never came back"
    moved_ms = (third - first) * 1000 / SAMPLE_RATE
    print(f"echo path in reference samples: {first} then {third} ({moved_ms:+.1f} ms)")
    # it moved by the whole buffer (-236 ms) before; what the sound server already took
    # from the aborted stream still plays, a few ms the estimate does not know of
    assert abs(moved_ms) <= 25, f"the cut moved the echo path by {moved_ms:.0f} ms"
    assert bench.taken_back() >= 0.1 * SAMPLE_RATE, "the cut dropped audio still buffered"
