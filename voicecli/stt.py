"""Speech-to-text with faster-whisper: load a model once, transcribe 16 kHz mono utterances.

Why one engine object: the model (~285 MB RSS) is loaded once per process and shared by every
pipeline (chat, server sessions, bench); calls are serialised by the STT worker, so shutdown
waits for at most one native call.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecli import catalogue
from voicecli.config import SttConfig
from voicecli.errors import ModelMissingError
from voicecli.short_window import ShortWindowDecoder, ShortWindowOptions

MODEL_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class SttResult:
    text: str
    compute_ms: float
    audio_s: float
    fallback: bool = False  # the short window was rejected and the full window used


def resolve_model(name: str, allow_download: bool = False) -> str:
    """A catalogue id, a model directory, or (with allow_download) a faster-whisper hub name."""
    if catalogue.find(name, "stt") is not None:
        return str(catalogue.resolve(name, "stt"))
    path = Path(name).expanduser()
    looks_like_path = os.sep in name or name.startswith(".") or path.exists()
    if looks_like_path:
        missing = [f for f in MODEL_FILES if not (path / f).is_file()]
        if not path.is_dir() or missing:
            raise ModelMissingError(
                f"model directory {path} not found or incomplete"
                + (f" (missing {', '.join(missing)})" if path.is_dir() else ""),
                hint="give a CTranslate2 Whisper model directory or a catalogue id: tiny.en",
            )
        return str(path)
    if not allow_download:
        raise ModelMissingError(
            f"model {name!r} is neither in the catalogue nor a directory",
            hint="pass --allow-download to fetch a faster-whisper hub model, or use tiny.en",
        )
    return name


class SpeechToText:
    def __init__(self, config: SttConfig) -> None:
        import tqdm
        from faster_whisper import WhisperModel

        # faster-whisper makes a (disabled) progress bar per call; tqdm would start a monitor
        # thread that outlives every pipeline.
        tqdm.tqdm.monitor_interval = 0

        self.config = config
        self.model_path = resolve_model(config.model, config.allow_download)
        threads = config.threads or os.cpu_count() or 1
        start = time.perf_counter()
        try:
            self.model = WhisperModel(
                self.model_path,
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                local_files_only=not config.allow_download,
            )
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelMissingError(f"cannot load model {config.model}: {exc}") from None
        self.load_s = time.perf_counter() - start
        self.english_only = not self.model.model.is_multilingual
        self.short_window = ShortWindowDecoder(
            self.model, ShortWindowOptions(beam_size=config.beam_size)
        )
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, *, vad_filter: bool = False) -> SttResult:
        """One VAD-trimmed utterance (the pipeline): the short window, which falls back to the
        full window by itself (``voicecli.short_window``). ``vad_filter=True`` marks a whole
        recording with silences in it (``voicecli transcribe``): the full window."""
        if vad_filter:
            return self.transcribe_full(audio, vad_filter=True)
        start = time.perf_counter()
        with self._lock:
            decoded = self.short_window.decode(audio)
        return SttResult(
            text=decoded.text,
            compute_ms=(time.perf_counter() - start) * 1000,
            audio_s=len(audio) / 16000,
            fallback=decoded.fallback,
        )

    def transcribe_full(self, audio: np.ndarray, *, vad_filter: bool = False) -> SttResult:
        """Whole-window decode (faster-whisper's own path), temperature 0, no conditioning."""
        start = time.perf_counter()
        with self._lock:
            segments, _info = self.model.transcribe(
                audio,
                language="en" if self.english_only else None,
                beam_size=self.config.beam_size,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
                vad_filter=vad_filter,
            )
            text = " ".join(s.text.strip() for s in segments).strip()
        return SttResult(
            text=text,
            compute_ms=(time.perf_counter() - start) * 1000,
            audio_s=len(audio) / 16000,
        )
