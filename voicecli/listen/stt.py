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

from voicecli.core import catalogue
from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.config import SttConfig
from voicecli.core.errors import ModelMissingError
from voicecli.listen.short_window import ShortWindowDecoder, ShortWindowOptions

MODEL_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class SttResult:
    text: str
    compute_ms: float
    audio_s: float
    fallback: bool = False  # the short window was rejected and the full window used
    threads: int | None = None  # CPU threads the model ran on (fewer under thermal protection)
    # the decoder's confidence (the ``confirm`` check): None when nothing was decoded
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


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

        # faster-whisper makes a (disabled) progress bar per call; tqdm would start a monitor
        # thread that outlives every pipeline.
        tqdm.tqdm.monitor_interval = 0

        self.config = config
        self.model_path = resolve_model(config.model, config.allow_download)
        self.threads = config.threads or os.cpu_count() or 1
        start = time.perf_counter()
        self.model = self._load(self.threads)
        self.load_s = time.perf_counter() - start
        self.english_only = not self.model.model.is_multilingual
        self.short_window = ShortWindowDecoder(
            self.model, ShortWindowOptions(beam_size=config.beam_size)
        )
        self._lock = threading.Lock()
        self.thread_limit: int | None = None  # thermal protection's limit (limit_threads)
        self._limited: dict[int, tuple] = {}  # threads -> (model, decoder), loaded on first use

    def _load(self, threads: int):
        from faster_whisper import WhisperModel

        try:
            return WhisperModel(
                self.model_path,
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                local_files_only=not self.config.allow_download,
            )
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelMissingError(f"cannot load model {self.config.model}: {exc}") from None

    def limit_threads(self, threads: int | None) -> None:
        """Thermal protection: transcribe on at most ``threads`` CPU threads (None: as loaded).

        ctranslate2 fixes a model's thread count when it loads, so the first transcription
        under a limit loads a second copy with that many threads (tiny.en here: ~0.5 s once,
        ~80 MB kept for the next hot spell); the call in progress is not affected."""
        self.thread_limit = threads

    def _engine(self) -> tuple:
        """(model, short-window decoder, threads) for the current limit; under ``_lock``."""
        limit = self.thread_limit
        if not limit or limit >= self.threads:
            return self.model, self.short_window, self.threads
        if limit not in self._limited:
            model = self._load(limit)
            options = ShortWindowOptions(beam_size=self.config.beam_size)
            self._limited[limit] = (model, ShortWindowDecoder(model, options))
        return (*self._limited[limit], limit)

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        vad_filter: bool = False,
        allow_fallback: bool = True,
        prompt: str = "",
    ) -> SttResult:
        """One VAD-trimmed utterance (the pipeline): the short window, which falls back to the
        full window by itself (``voicecli.listen.short_window``) unless ``allow_fallback`` is False
        (partials: a doubtful partial is better than a late final). ``vad_filter=True`` marks a
        whole recording with silences in it (``voicecli transcribe``): the full window.
        ``prompt``: the recognition bias (the skills' words, the previous turn; "" for none),
        given by the layer that knows them (pipeline, reply.bias)."""
        if vad_filter:
            return self.transcribe_full(audio, vad_filter=True, prompt=prompt)
        start = time.perf_counter()
        with self._lock:
            _model, decoder, threads = self._engine()
            decoded = decoder.decode(audio, allow_fallback=allow_fallback, prompt=prompt)
        return SttResult(
            text=decoded.text,
            compute_ms=(time.perf_counter() - start) * 1000,
            audio_s=len(audio) / SAMPLE_RATE,
            fallback=decoded.fallback,
            threads=threads,
            avg_logprob=decoded.avg_logprob,
            no_speech_prob=decoded.no_speech_prob,
        )

    def transcribe_full(
        self, audio: np.ndarray, *, vad_filter: bool = False, prompt: str = ""
    ) -> SttResult:
        """Whole-window decode (faster-whisper's own path), temperature 0, no conditioning on
        its own earlier windows; ``prompt`` becomes its ``initial_prompt``."""
        start = time.perf_counter()
        with self._lock:
            model, _decoder, threads = self._engine()
            segments, _info = model.transcribe(
                audio,
                language="en" if self.english_only else None,
                beam_size=self.config.beam_size,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
                vad_filter=vad_filter,
                initial_prompt=prompt.strip() or None,
            )
            segments = list(segments)
            text = " ".join(s.text.strip() for s in segments).strip()
        return SttResult(
            text=text,
            compute_ms=(time.perf_counter() - start) * 1000,
            audio_s=len(audio) / SAMPLE_RATE,
            threads=threads,
            avg_logprob=min((s.avg_logprob for s in segments), default=None),
            no_speech_prob=max((s.no_speech_prob for s in segments), default=None),
        )
