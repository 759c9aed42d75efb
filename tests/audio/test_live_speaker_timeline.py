"""The speaker's reference stays in step with what reached the air across a cut.

Aborting the output stream drops what its buffer still held (about 250 ms here). Before the
speaker took those samples back from the reference, every cut moved the echo path by a
buffer's length in the reference's sample count, and the WebRTC module leaked echo for a
second or more while it found the new delay (benchmarks/DUPLEX.md, run 7). Here, on the
virtual devices with ``module-loopback``: a burst is played and heard, a second one is cut
while still buffered, a third is played; the first and third must reach the microphone the
same number of samples after their place in the reference.
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


def _onsets(blocks) -> list[int]:
    """Index of the first loud sample of every burst (bursts at least 0.3 s apart)."""
    found: list[int] = []
    for start, samples in blocks:
        loud = np.flatnonzero(np.abs(samples) > 0.1)
        for i in loud:
            if not found or start + i > found[-1] + 0.3 * SAMPLE_RATE:
                found.append(start + int(i))
    return found


def test_a_cut_does_not_move_the_echo_path(pulse, echo_path):
    sd = sounddevice()
    monitor = RecordingMonitor()
    heard: list[np.ndarray] = []
    mic = sd.InputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="float32",
        callback=lambda data, *_: heard.append(data[:, 0].copy()),
    )
    sink = SpeakerSink(monitor=monitor, source_rate=SAMPLE_RATE)
    mic.start()
    try:
        time.sleep(0.5)
        sink.write(BURST)
        sink.end_reply()  # played
        time.sleep(0.5)
        taken, deadline = len(monitor.blocks), time.monotonic() + 5
        sink.write(BURST)
        while not any(np.abs(b).max() > 0.1 for _, b in monitor.blocks[taken:]):
            assert time.monotonic() < deadline, "the output callback never took the burst"
            time.sleep(0.005)  # taken by the callback: it plays ~0.22 s later
        assert sink.cut()
        sink.end_reply(wait=False)
        time.sleep(0.5)
        sink.write(BURST)
        sink.end_reply()
        time.sleep(0.8)  # its echo arrives
    finally:
        sink.close()
        mic.abort()
        mic.close()
    sent = _onsets(monitor.blocks)
    assert len(sent) == 3, f"three bursts in the reference: {sent}"
    ends = [start + len(block) for start, block in monitor.blocks]
    taken_back = max(end - start for end, (start, _) in zip(ends, monitor.blocks[1:], strict=False))
    assert taken_back >= 0.1 * SAMPLE_RATE, "the cut dropped audio still buffered"
    received = _onsets([(0, np.concatenate(heard))])
    assert len(received) in (2, 3), f"the first and last bursts were heard: {received}"
    first, third = received[0] - sent[0], received[-1] - sent[2]
    moved_ms = (third - first) * 1000 / SAMPLE_RATE
    print(f"echo path in reference samples: {first} then {third} ({moved_ms:+.1f} ms)")
    # it moved by the whole buffer (-236 ms) before; what the sound server already took
    # from the aborted stream still plays, a few ms the estimate does not know of
    assert abs(moved_ms) <= 25, f"the cut moved the echo path by {moved_ms:.0f} ms"
