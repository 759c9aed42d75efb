"""The wake word said over a reply stops it (hands-free, with echo cancellation).

Why on the cancelled microphone, and only then: while the assistant speaks, the wake-word gate
is awake and the echo guard hands the listener silence (no barge-in by default), so the gate's
detector never hears the user. With WebRTC echo cancellation the microphone's own copy has the
assistant's voice removed, and a second detector runs on it -- only while the speaker is busy,
so asleep it costs a branch per frame. Hearing the wake word, it stops the reply through the
one interrupt function (``PlaybackLine.interrupt``, via the pipeline). Without echo
cancellation the model would hear the assistant's own voice: not offered (docs/wake.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.core.config import WakeConfig
from voicecli.core.events import Event, WakeWordHeard
from voicecli.core.messages import WAKE_WORD, Interrupt
from voicecli.listen.wake import WakeDetector, check_word, cutoff
from voicecli.listen.wake_gate import BATCH

#: the speaker counts as busy this long after its last audible block (the room's echo tail)
TAIL_S = 0.3


class WakeInterrupt:
    """Called by the microphone's source thread with every echo-cancelled frame."""

    def __init__(
        self,
        config: WakeConfig,
        monitor: PlaybackMonitor,
        interrupt: Callable[[Interrupt], object],
        emit: Callable[[Event], None],
    ) -> None:
        word = check_word(config.word)
        self.detector = WakeDetector(word, cutoff(config, word), config.cooldown_s)
        self.monitor = monitor
        self.interrupt = interrupt
        self.emit = emit
        self._batch: list[np.ndarray] = []
        self._listening = False

    def __call__(self, samples: np.ndarray, wall: float) -> None:
        if not self.monitor.busy(TAIL_S):
            if self._listening:  # the reply is over: the next one starts afresh
                self._listening = False
                self._batch.clear()
                self.detector.reset()
            return
        self._listening = True
        self._batch.append(samples)
        if len(self._batch) < BATCH:
            return
        found = self.detector.feed(np.concatenate(self._batch))
        self._batch.clear()
        if found is None:
            return
        self.emit(WakeWordHeard(word=found.word, probability=found.probability))
        self.interrupt(Interrupt(WAKE_WORD, wall=wall, text=found.word))
