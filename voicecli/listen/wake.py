"""The wake-word detector: microWakeWord models (pymicro-wakeword) on the pipeline's frames.

Why a wrapper: the model has no refractory period -- it fires on every 30 ms inference while
its 5-inference average stays above the cutoff -- so a detection starts a cooldown and resets
the model's streaming state. The package is imported only when a wake word is asked for: it
has no macOS wheel and needs glibc >= 2.35, and its absence must cost one line (exit 5).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.core.clock import SAMPLE_RATE
from voicecli.core.config import WakeConfig
from voicecli.core.errors import ModelMissingError, UsageError

#: The models inside the pymicro-wakeword wheel, with the phrase each one listens for.
WAKE_WORDS = {
    "okay_nabu": "okay nabu",
    "alexa": "alexa",
    "hey_jarvis": "hey jarvis",
    "hey_mycroft": "hey mycroft",
}
STEP = 160  # samples per feature step (10 ms)
INSTALL = "pip install 'voicecli[wake]' (Linux x86_64/aarch64 with glibc>=2.35, Windows)"


def check_word(name: str) -> str:
    """The canonical wake-word name, or a usage error (exit 2) listing the valid ones."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in WAKE_WORDS:
        raise UsageError(f"unknown wake word {name!r}: use one of {', '.join(WAKE_WORDS)}")
    return key


def cutoff(config: WakeConfig, word: str) -> float:
    return getattr(config, f"cutoff_{word}")


def _package():
    """The pymicro_wakeword module, or ModelMissingError (exit 5) saying why in one line."""
    try:
        import pymicro_wakeword
    except ImportError as exc:
        raise ModelMissingError(f"wake word needs pymicro-wakeword: {exc}", hint=INSTALL) from None
    except OSError as exc:  # the native library exists but cannot load
        raise ModelMissingError(f"wake word library failed to load: {exc}") from None
    return pymicro_wakeword


def _library(package) -> Path:
    """The wheel's TFLite runtime, loaded once here: a failure is one line, not the package's
    half-built object complaining at garbage collection."""
    library = next((Path(package.__file__).parent / "lib").glob("*tensorflowlite_c.*"), None)
    if library is None:
        raise ModelMissingError("wake word library missing from pymicro-wakeword", hint=INSTALL)
    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        raise ModelMissingError(f"wake word library failed to load: {exc}") from None
    return library


def available() -> tuple[bool, str]:
    """For ``doctor`` and ``models``: can the wake words run here, and the package's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        detector = WakeDetector("okay_nabu", 0.85)
    except ModelMissingError as exc:
        return False, str(exc)
    detector.close()
    try:
        return True, f"pymicro-wakeword {version('pymicro-wakeword')}"
    except PackageNotFoundError:
        return True, "pymicro-wakeword"


@dataclass(frozen=True)
class Detection:
    word: str
    probability: float
    sample: int  # samples fed before the detecting inference's last sample (its end)


class WakeDetector:
    """Feeds 16 kHz float32 frames to one wake-word model; returns a Detection when it fires."""

    def __init__(self, word: str, probability_cutoff: float, cooldown_s: float = 1.0) -> None:
        word = check_word(word)
        package = _package()
        library = _library(package)
        try:
            self.model = package.MicroWakeWord.from_builtin(
                package.Model(word), libtensorflowlite_c_path=library
            )
            self.features = package.MicroWakeWordFeatures()
        except (OSError, ValueError, AttributeError) as exc:
            raise ModelMissingError(f"wake word {word!r} failed to load: {exc}") from None
        self.word = word
        self.cutoff = probability_cutoff
        self.cooldown = int(cooldown_s * SAMPLE_RATE)
        self.fed = 0  # samples fed since construction
        self._origin = 0  # the sample the features' stream started at (after a reset)
        self._steps = 0  # 10 ms feature steps since then
        self._quiet_until = 0  # no detection before this sample (cooldown)
        self.peak = 0.0  # the highest averaged probability seen (bench)

    def feed(self, samples: np.ndarray) -> Detection | None:
        self.fed += len(samples)
        if self.fed <= self._quiet_until:  # cooling down: the model starts afresh after it
            self._origin, self._steps = self.fed, 0
            return None
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        found = None
        for features in self.features.process_streaming(pcm):
            self._steps += 1
            probability = self.model.process_streaming_prob(features)
            if probability is None:
                continue
            self.peak = max(self.peak, probability)
            if found is None and probability > self.cutoff:
                end = min(self._origin + self._steps * STEP, self.fed)
                found = Detection(self.word, round(probability, 3), end)
        if found is not None:
            self._quiet_until = found.sample + self.cooldown
            self.reset()
        return found

    def reset(self) -> None:
        """Forget the model's streaming state and its average. The features' frontend is kept:
        its noise estimate describes the room, which did not change (after 0.5 s of noise
        instead of 3 s neural okay_nabu / alexa woke on 17 / 19 of 30 noisy clips instead of
        20 / 25: docs/wake.md)."""
        self.model.reset()

    def close(self) -> None:
        self.model.close()
