"""Smart Turn v3.2: an audio model that says whether the speaker has finished their turn.

Why audio and not only words: real short commands reach us without final punctuation ("go
forward ten meters"), so the transcript alone cannot tell a finished command from a pause; the
model hears the falling pitch and the released final syllable. The ONNX file ships inside the
``pipecat-ai`` wheel (installed ``--no-deps``); we find it through the distribution's metadata and
never import pipecat. Its input is Whisper log-Mel features of the last 8 s; its output
``logits`` is already the probability that the turn is complete.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli.core import catalogue
from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.config import TurnConfig
from voicecli.core.errors import ModelMissingError, UsageError
from voicecli.listen.turn import DETECTORS, RULES

MODEL_ID = "smart-turn-v3.2"
WINDOW_S = 8  # the model hears the last 8 s
WINDOW = WINDOW_S * SAMPLE_RATE
FRAMES = 800  # feature frames in 8 s (10 ms hop)


class TurnModelError(ModelMissingError):
    """The model file exists but cannot be used (damaged, truncated, wrong checksum)."""

    code = "model_invalid"


@dataclass(frozen=True)
class TurnScore:
    probability: float  # that the turn is complete
    compute_ms: float  # wall time of features + inference, this call
    cpu_ms: float  # CPU time of this thread for it (onnxruntime runs on the calling thread)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def features(audio: np.ndarray, extractor) -> np.ndarray:
    """[1, 80, 800] log-Mel features of the last 8 s, zero-padded at the front and normalised
    to zero mean and unit variance over the 8 s window first."""
    clip = np.asarray(audio, dtype=np.float32)[-WINDOW:]
    window = np.zeros(WINDOW, np.float32)
    window[WINDOW - len(clip) :] = clip
    window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
    mel = extractor(window, padding=0)
    return mel[np.newaxis, :, :FRAMES].astype(np.float32)


class TurnModel:
    """One ONNX session on one thread (no spinning); ``score`` runs one inference at a time."""

    def __init__(self, path: Path, sha256: str = "") -> None:
        if sha256 and _sha256(path) != sha256:
            raise TurnModelError(
                f"turn model {path} is damaged: its sha256 does not match the catalogue",
                hint="reinstall it with: pip install --force-reinstall --no-deps pipecat-ai",
            )
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise TurnModelError(f"turn model {path} cannot be loaded: {exc}") from None
        self.path = path
        self.extractor = FeatureExtractor(chunk_length=WINDOW_S)  # ours, not the STT model's
        self._lock = threading.Lock()

    @classmethod
    def load(cls) -> TurnModel:
        """The catalogue's model, checksum verified; ModelMissingError when not installed."""
        entry = catalogue.find(MODEL_ID, "turn")
        path = entry.location()
        if path is None:
            raise ModelMissingError(
                f"turn model {entry.id} is not installed (it comes from {entry.package})",
                hint=f"install it with: {entry.install}",
            )
        return cls(path, entry.sha256)

    def score(self, audio: np.ndarray) -> TurnScore:
        """P(turn complete) for ``audio`` (16 kHz mono float, ending now)."""
        with self._lock:
            start, start_cpu = time.perf_counter(), time.thread_time()
            inputs = features(audio, self.extractor)
            (out,) = self.session.run(["logits"], {"input_features": inputs})
            ms = (time.perf_counter() - start) * 1000
            cpu_ms = (time.thread_time() - start_cpu) * 1000
        return TurnScore(probability=float(np.ravel(out)[0]), compute_ms=ms, cpu_ms=cpu_ms)


def load_turn_model(config: TurnConfig) -> TurnModel | None:
    """The model the ``turn.detector`` setting needs, or None: not wanted (``rules``) or not
    installed (the listener then says so once). A damaged file is an error (exit 5)."""
    if config.detector not in DETECTORS:
        raise UsageError(f"turn.detector must be one of {', '.join(DETECTORS)}")
    if config.detector == RULES:
        return None
    try:
        return TurnModel.load()
    except TurnModelError:
        raise
    except ModelMissingError:
        return None
