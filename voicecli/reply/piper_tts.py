"""The Piper engine: a neural voice (VITS in onnxruntime) from a voice package on PyPI.

Why we build the onnxruntime session ourselves: ``PiperVoice.load`` takes onnxruntime's
defaults (one thread per core, spinning between runs), which on a 2-core machine would starve
speech recognition while a reply is synthesised. We give it ``threads`` intra-op threads and
no spinning (benchmarks/RESULTS.md, "Piper TTS", has 1 vs 2 threads).

Piper's ``synthesize`` makes one chunk per sentence and each is one ONNX run that cannot be
interrupted, so the responder hands it one short piece at a time (reply/sentences.py). Its
default output varies run to run (noise); ``deterministic=True`` sets both noise scales to 0,
for tests and the bench corpus. Voices whose rate is not TTS_RATE are resampled to it.

Each ONNX run happens in its own short-lived thread at a lower priority (``nice``, Linux:
niceness is per thread there): with two cores, speech recognition for one ``serve`` session
must not wait while another session's reply is synthesised (benchmarks/RESULTS.md, "serve
with Piper"). The calling thread keeps its priority, so only the synthesis yields.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voicecli.audio.file import resample
from voicecli.core import catalogue
from voicecli.core.catalogue import ModelEntry
from voicecli.core.lifecycle import ManagedThread

NATURAL_WPM = 175  # --rate at which a voice speaks at its own pace (length scale x 1)
LICENSE = "GPL-3.0 (piper-tts)"


class PiperMissing(RuntimeError):
    """Piper or the voice cannot load here (no wheel for this platform, package missing)."""


def piper_voices() -> list[ModelEntry]:
    """The Piper voices of the catalogue whose package is installed."""
    return [e for e in catalogue.entries() if e.kind == "tts" and e.location() is not None]


def length_scale(base: float, rate: int) -> float:
    """Piper's length scale for ``rate`` words per minute (NATURAL_WPM keeps ``base``)."""
    return base * NATURAL_WPM / rate


@dataclass
class PiperEngine:
    """One loaded Piper voice; ``synthesize`` is serialised (one ONNX run at a time)."""

    entry: ModelEntry
    voice: object  # piper.PiperVoice
    deterministic: bool
    rate_hz: int
    nice: int = 0  # niceness of the synthesising thread (Linux; 0: the caller's thread)
    name: str = "piper"

    @classmethod
    def load(
        cls, voice_id: str, threads: int, deterministic: bool = False, nice: int = 0
    ) -> PiperEngine:
        entry = next((e for e in piper_voices() if e.id == voice_id), None)
        try:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as exc:
            raise PiperMissing(f"piper-tts cannot be imported: {exc}") from None
        if entry is None:
            raise PiperMissing(f"the Piper voice {voice_id!r} is not installed")
        model = entry.location()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            config = PiperConfig.from_dict(
                json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
            )
            session = onnxruntime.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a damaged model file, an onnxruntime that cannot run it
            raise PiperMissing(f"cannot load {model.name}: {exc}") from None
        voice = PiperVoice(session=session, config=config)
        return cls(entry, voice, deterministic, config.sample_rate, nice)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def synthesize(self, text: str, rate: int, out_rate: int) -> np.ndarray:
        """``text`` as int16 mono PCM at ``out_rate``."""
        from piper import SynthesisConfig

        noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if self.deterministic else {}
        config = SynthesisConfig(
            length_scale=length_scale(self.voice.config.length_scale, rate), **noise
        )
        with self._lock:
            chunks = self._run(
                lambda: [c.audio_float_array for c in self.voice.synthesize(text, config)]
            )
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        audio = resample(np.concatenate(chunks), self.rate_hz, out_rate)
        return np.clip(audio * 32767.0, -32767, 32767).astype(np.int16)

    def _run(self, make: Callable[[], list]) -> list:
        """``make()`` in a thread of niceness ``nice`` (Linux), else in this thread."""
        if self.nice <= 0 or sys.platform != "linux":
            return make()
        out: list = []

        def work(_thread: ManagedThread) -> None:
            with contextlib.suppress(OSError):  # raising one's niceness is always allowed
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            out.extend(make())

        worker = ManagedThread("piper-synth", work).start()
        worker.join(timeout=600.0)  # one ONNX run cannot be interrupted: wait for it
        worker.raise_if_failed()
        return out
