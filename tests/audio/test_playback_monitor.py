"""PlaybackMonitor.drop_unplayed: a cut takes back what the aborted stream never played."""

from __future__ import annotations

import time

import numpy as np

from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.core.audio_format import SAMPLE_RATE

BLOCK = 800  # 50 ms


def _sent(monitor: PlaybackMonitor, blocks: int, lead_s: float | None) -> float:
    """Append ``blocks`` loud blocks; the monotonic time just after the last."""
    for _ in range(blocks):
        plays_at = None if lead_s is None else time.monotonic() + lead_s
        monitor.append(np.full(BLOCK, 0.5, np.float32), audible=True, plays_at=plays_at)
    return time.monotonic()


def test_a_cut_takes_back_the_buffered_samples():
    monitor = PlaybackMonitor()
    at = _sent(monitor, 10, lead_s=0.2)  # the last block plays from 0.2 s after it was sent
    dropped = monitor.drop_unplayed(at)
    # nothing of the last block played yet, nor the 0.2 s buffered before it
    assert abs(dropped - (BLOCK + 0.2 * SAMPLE_RATE)) <= 16
    assert monitor.count == 10 * BLOCK - dropped
    assert monitor.last_audible_count == monitor.count
    monitor.append(np.zeros(BLOCK, np.float32), audible=False)  # the next block overwrites
    assert not monitor.window(monitor.count, BLOCK).any()


def test_what_has_played_by_then_stays():
    monitor = PlaybackMonitor()
    at = _sent(monitor, 10, lead_s=0.02)
    dropped = monitor.drop_unplayed(at + 0.05)  # 30 ms of the last block had played
    assert abs(dropped - (BLOCK - 0.03 * SAMPLE_RATE)) <= 16
    assert monitor.drop_unplayed(time.monotonic()) == 0, "taken back once"


def test_without_a_dac_time_the_output_latency_is_taken():
    monitor = PlaybackMonitor()
    monitor.latency_s = 0.1
    at = _sent(monitor, 10, lead_s=None)
    assert abs(monitor.drop_unplayed(at) - (BLOCK + 0.1 * SAMPLE_RATE)) <= 16
    empty = PlaybackMonitor()
    assert empty.drop_unplayed(time.monotonic()) == 0 and empty.count == 0
