"""Short-window decoding: transcribe one VAD-trimmed utterance without a 30-second window.

Why: ``WhisperModel.transcribe()`` pads every call to 30 s, so a 2 s utterance pays for 30 s of
encoder work (~1 s here). The CTranslate2 encoder accepts a shorter input, so we encode only the
utterance plus ``pad_s`` of real silence (zeros appended before the log-Mel features are
computed, so the padding looks like silence, not like the zero features faster-whisper pads
with). A naively cut window makes the decoder repeat itself ("X. X. X."), so:

- timestamp tokens are kept: a segment that starts after the speech ended is dropped;
- the decode is capped at ``min_tokens + tokens_per_s * seconds`` tokens;
- a repetition guard cuts a phrase that starts re-reading the words just before it;
- a quality check like faster-whisper's (compression ratio, average log-probability) doubts a
  decode: it is decoded again with a wider beam on the same encoding, and if still doubtful the
  utterance goes to the full window (``WhisperModel.transcribe``), as does one longer than
  ``max_short_s``.

Greedy decoding, 2 s of padding and the beam-5 retry measured best on the benchmark corpus
(benchmarks/RESULTS.md, ``benchmarks/tune_short_window.py``).

Works with any CTranslate2 Whisper model directory: English-only models decode in English,
multilingual ones detect the language on the short window unless one is given.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import numpy as np

from voicecli.core.audio_format import SAMPLE_RATE

TIME_PRECISION = 0.02  # seconds per Whisper timestamp token
MAX_INITIAL_TIMESTAMP_INDEX = 50  # the first timestamp is at most 1 s in (faster-whisper's)


@dataclass(frozen=True)
class ShortWindowOptions:
    pad_s: float = 2.0  # real silence after the utterance (tuned: benchmarks/RESULTS.md)
    beam_size: int = 1
    retry_beam_size: int | None = 5  # a doubtful decode is tried again with this beam
    timestamps: bool = True  # decode timestamp tokens (segments after the speech are dropped)
    tokens_per_s: float = 7.0  # token cap: min_tokens + tokens_per_s * utterance seconds
    min_tokens: int = 12
    max_short_s: float = 25.0  # longer utterances take the full window
    compression_ratio_threshold: float = 2.4  # faster-whisper's defaults
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    fallback_beam_size: int = 5


@dataclass(frozen=True)
class Decoded:
    text: str
    fallback: bool  # the full window made this text
    reason: str  # short | long | compression_ratio | log_prob | token_cap | no_speech
    repeat_cut: bool = False  # the repetition guard removed a repeated phrase
    avg_logprob: float | None = None
    compression_ratio: float | None = None


@dataclass(frozen=True)
class Segment:
    start: float  # seconds into the window
    tokens: tuple[int, ...]
    closed: bool  # ended with a timestamp token


_WORD_KEY = re.compile(r"[\W_]+")


def compression_ratio(text: str) -> float:
    """How well zlib compresses ``text``: high means the text repeats itself."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def word_keys(text: str) -> list[str]:
    """Words as compared for repeats: lower case, without punctuation."""
    keys = (_WORD_KEY.sub("", w.lower()) for w in text.split())
    return [k for k in keys if k]


def find_repeat(words: list[str]) -> int | None:
    """Index of the first word that starts re-reading the words just before it, or None.

    A repeat at ``j`` with period ``p >= 2``: the ``p`` words from ``j`` are the ``p`` words
    just before ``j`` ("what time is it what time is it" cuts at the second "what"). A single
    word counts when it occurs three times in a row ("the the the"). Comparison ignores case
    and punctuation.
    """
    keys = [_WORD_KEY.sub("", w.lower()) for w in words]
    n = len(keys)
    for j in range(1, n):
        if j + 1 < n and keys[j] and keys[j - 1] == keys[j] == keys[j + 1]:
            return j
        for p in range(2, min(j, n - j) + 1):
            if keys[j : j + p] == keys[j - p : j]:
                return j
    return None


def cut_repeats(text: str) -> tuple[str, bool]:
    """``text`` without a repeated phrase and what follows it; True when something was cut."""
    words = text.split()
    cut = find_repeat(words)
    if cut is None:
        return text.strip(), False
    return " ".join(words[:cut]), True


def drop_rereads(texts: list[str]) -> int:
    """How many leading segments to keep: a segment that starts reading an earlier segment
    again from its beginning ("What time is it?" then "What time is") ends the utterance."""
    earlier: list[list[str]] = []
    for index, text in enumerate(texts):
        keys = word_keys(text)
        if keys and any(prev[: len(keys)] == keys for prev in earlier):
            return index
        earlier.append(keys)
    return len(texts)


def split_segments(tokens: list[int], timestamp_begin: int, eot: int) -> list[Segment]:
    """Group decoded tokens into timestamped segments (text tokens between timestamp tokens)."""
    segments: list[Segment] = []
    start, text = 0.0, []
    for token in tokens:
        if token >= timestamp_begin:
            seconds = (token - timestamp_begin) * TIME_PRECISION
            if text:
                segments.append(Segment(start, tuple(text), closed=True))
                text = []
            start = seconds
        elif token < eot:
            text.append(token)
    if text:
        segments.append(Segment(start, tuple(text), closed=False))
    return segments


@dataclass(frozen=True)
class RawDecode:
    """What the model produced for one short window, before the guard and the checks."""

    segments: list[Segment]
    capped: bool  # the token cap stopped the decode
    avg_logprob: float
    no_speech_prob: float
    tokenizer: object

    def text(self, segments: list[Segment] | None = None) -> str:
        chosen = self.segments if segments is None else segments
        return "".join(self.tokenizer.decode(list(s.tokens)) for s in chosen).strip()


class ShortWindowDecoder:
    """Decodes utterances with one faster-whisper ``WhisperModel``; not thread-safe."""

    def __init__(self, model, options: ShortWindowOptions | None = None, language=None) -> None:
        self.model = model
        self.options = options or ShortWindowOptions()
        self.multilingual = bool(model.model.is_multilingual)
        self.language = language or (None if self.multilingual else "en")
        self._tokenizers: dict[str, object] = {}
        self._suppress: dict[str, tuple[int, ...]] = {}

    def decode(self, audio: np.ndarray, allow_fallback: bool = True) -> Decoded:
        """The utterance's text. A doubtful decode is retried with ``retry_beam_size`` on the
        same encoding, then sent to the full window; ``allow_fallback=False`` skips both and
        keeps the doubtful text (partial transcripts must stay cheap)."""
        audio = np.asarray(audio, dtype=np.float32)
        seconds = len(audio) / SAMPLE_RATE
        if seconds > self.options.max_short_s:
            return self.full_window(audio, "long")
        encoder_output = self._encode(audio)
        tokenizer = self._tokenizer(self._language(encoder_output))
        beams = [self.options.beam_size]
        if allow_fallback and self.options.retry_beam_size:
            beams.append(self.options.retry_beam_size)
        for beam_size in beams:
            raw = self._generate(encoder_output, tokenizer, seconds, beam_size)
            decoded = self._judge(raw, seconds)
            if decoded.reason == "short" or not allow_fallback:
                return decoded
        return self.full_window(audio, decoded.reason)

    def raw_decode(self, audio: np.ndarray) -> RawDecode:
        """The model's output for the short window, before the guard and the checks."""
        encoder_output = self._encode(audio)
        tokenizer = self._tokenizer(self._language(encoder_output))
        return self._generate(encoder_output, tokenizer, len(audio) / SAMPLE_RATE)

    def _judge(self, raw: RawDecode, seconds: float) -> Decoded:
        """Keep the segments inside the speech, cut repeats, and say whether to doubt it."""
        kept = [s for s in raw.segments if s.start < seconds and (s.closed or not raw.capped)]
        keep = drop_rereads([raw.text([s]) for s in kept])
        text, repeat_cut = cut_repeats(raw.text(kept[:keep]))
        repeat_cut = repeat_cut or keep < len(kept)
        ratio = compression_ratio(text)
        return Decoded(
            text=text,
            fallback=False,
            reason=self._doubt(raw, ratio, repeat_cut) or "short",
            repeat_cut=repeat_cut,
            avg_logprob=raw.avg_logprob,
            compression_ratio=ratio,
        )

    def _doubt(self, raw: RawDecode, ratio: float, repeat_cut: bool) -> str | None:
        """Why the short-window text should not be trusted, or None (faster-whisper's rules)."""
        opts = self.options
        if (
            raw.no_speech_prob > opts.no_speech_threshold
            and raw.avg_logprob < opts.log_prob_threshold
        ):
            return "no_speech"  # the VAD heard speech: let the full window decide
        if raw.capped and not repeat_cut:
            return "token_cap"
        if ratio > opts.compression_ratio_threshold:
            return "compression_ratio"
        if raw.avg_logprob < opts.log_prob_threshold:
            return "log_prob"
        return None

    def full_window(self, audio: np.ndarray, reason: str) -> Decoded:
        """faster-whisper's own 30 s path for this utterance, temperature 0."""
        segments, _info = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=self.options.fallback_beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        text, repeat_cut = cut_repeats(" ".join(s.text.strip() for s in segments))
        return Decoded(text=text, fallback=True, reason=reason, repeat_cut=repeat_cut)

    def _generate(self, encoder_output, tokenizer, seconds: float, beam_size: int | None = None):
        opts = self.options
        prompt = list(tokenizer.sot_sequence)
        if not opts.timestamps:
            prompt.append(tokenizer.no_timestamps)
        cap = min(448 - len(prompt), math.ceil(opts.min_tokens + opts.tokens_per_s * seconds))
        result = self.model.model.generate(
            encoder_output,
            [prompt],
            beam_size=beam_size or opts.beam_size,
            max_length=len(prompt) + cap,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(self._suppress[tokenizer.language_code]),
            max_initial_timestamp_index=MAX_INITIAL_TIMESTAMP_INDEX,
        )[0]
        tokens = result.sequences_ids[0]
        return RawDecode(
            segments=split_segments(tokens, tokenizer.timestamp_begin, tokenizer.eot),
            capped=len(tokens) >= cap,
            avg_logprob=result.scores[0] * len(tokens) / (len(tokens) + 1),
            no_speech_prob=result.no_speech_prob,
            tokenizer=tokenizer,
        )

    def _encode(self, audio: np.ndarray):
        import ctranslate2

        padded = np.concatenate([audio, np.zeros(round(self.options.pad_s * SAMPLE_RATE), "f4")])
        features = self.model.feature_extractor(padded)[:, :-1]  # last frame: the STFT's edge
        features = np.ascontiguousarray(features[None, :, : features.shape[1] // 2 * 2])
        return self.model.model.encode(ctranslate2.StorageView.from_array(features))

    def _language(self, encoder_output) -> str:
        if self.language is not None:
            return self.language
        token, _prob = self.model.model.detect_language(encoder_output)[0][0]
        return token[2:-2]

    def _tokenizer(self, language: str):
        if language not in self._tokenizers:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens

            tokenizer = Tokenizer(
                self.model.hf_tokenizer, self.multilingual, task="transcribe", language=language
            )
            self._tokenizers[language] = tokenizer
            self._suppress[language] = get_suppressed_tokens(tokenizer, [-1])
        return self._tokenizers[language]
