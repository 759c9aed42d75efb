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
  ``max_short_s``;
- a recognition prompt (``prompt``: words the assistant understands, the previous turn) goes
  before the start-of-transcript token after ``<|startofprev|>``, as Whisper conditions on
  previous text; the full-window fallback gets it as ``initial_prompt`` (the same tokens);
- the same check drops phantom transcripts: a decode the model itself calls silence (high
  no-speech probability and low log-probability), or one of Whisper's stock phrases for noise
  ("Thank you.", "you") heard on weak evidence, becomes no text at all.

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
MAX_NEW_TOKENS = 224  # Whisper's text context (448) halved, as CTranslate2 and Whisper do


@dataclass(frozen=True)
class ShortWindowOptions:
    pad_s: float = 2.0  # real silence after the utterance (tuned: benchmarks/RESULTS.md)
    # a decode that read in circles is redone with this pad; off: it tripled the median
    # compute (most one-word decodes loop to the cap), benchmarks/RESULTS.md
    loop_pad_s: float | None = None
    beam_size: int = 1
    retry_beam_size: int | None = 5  # a doubtful decode is tried again with this beam
    timestamps: bool = True  # decode timestamp tokens (segments after the speech are dropped)
    # token cap: min_tokens + tokens_per_s * utterance seconds; a looping one-word decode
    # runs to it, so it is kept low (latency: benchmarks/RESULTS.md)
    tokens_per_s: float = 3.5
    min_tokens: int = 7
    max_short_s: float = 25.0  # longer utterances take the full window
    compression_ratio_threshold: float = 2.4  # faster-whisper's defaults
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    fallback_beam_size: int = 5
    weak_no_speech: float = 0.3  # a stock phantom phrase is dropped above this no-speech prob.
    weak_log_prob: float = -0.7  # ... or below this average log-probability


@dataclass(frozen=True)
class Decoded:
    text: str
    fallback: bool  # the full window made this text
    reason: str  # short | long | compression_ratio | log_prob | token_cap | no_speech | phantom
    repeat_cut: bool = False  # the repetition guard removed a repeated phrase
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class Segment:
    start: float  # seconds into the window
    tokens: tuple[int, ...]
    closed: bool  # ended with a timestamp token


_WORD_KEY = re.compile(r"[\W_]+")

# What Whisper says for noise, music and silence (its subtitle-trained habits); dropped only
# when the decoder's own evidence is weak, so a person who says "thank you" is still heard.
PHANTOM_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thanks",
        "thank you very much",
        "thanks for watching",
        "thank you for watching",
        "music",
        "applause",
        "silence",
    }
)


def is_phantom(text: str, no_speech_prob: float, avg_logprob: float, opts) -> bool:
    """A stock noise phrase on weak evidence (see ``PHANTOM_PHRASES``)."""
    phrase = " ".join(word_keys(text))
    weak = no_speech_prob > opts.weak_no_speech or avg_logprob < opts.weak_log_prob
    return bool(phrase) and phrase in PHANTOM_PHRASES and weak


def compression_ratio(text: str) -> float:
    """How well zlib compresses ``text``: high means the text repeats itself."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def word_keys(text: str) -> list[str]:
    """Words as compared for repeats: lower case, without punctuation."""
    keys = (_WORD_KEY.sub("", w.lower()) for w in text.split())
    return [k for k in keys if k]


def find_repeat(words: list[str], looping: bool = False) -> int | None:
    """Index of the first word that starts re-reading the words just before it, or None.

    A repeat at ``j`` with period ``p >= 2``: the ``p`` words from ``j`` are the ``p`` words
    just before ``j`` ("what time is it what time is it" cuts at the second "what"). A single
    word counts when it occurs three times in a row ("the the the"), or twice when ``looping``
    (the decode ran into the token cap, so it was reading in circles: "Javis. Javis. Jav").
    Comparison ignores case and punctuation.
    """
    keys = [_WORD_KEY.sub("", w.lower()) for w in words]
    n = len(keys)
    for j in range(1, n):
        if (
            keys[j]
            and keys[j - 1] == keys[j]
            and (looping or (j + 1 < n and keys[j + 1] == keys[j]))
        ):
            return j
        for p in range(2, min(j, n - j) + 1):
            if keys[j : j + p] == keys[j - p : j]:
                return j
    return None


def cut_repeats(text: str, looping: bool = False) -> tuple[str, bool]:
    """``text`` without a repeated phrase and what follows it; True when something was cut."""
    words = text.split()
    cut = find_repeat(words, looping)
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


def prompt_tokens(tokenizer, prompt: str) -> list[int]:
    """``<|startofprev|>`` and the prompt's last tokens, as faster-whisper builds its
    ``initial_prompt`` (a leading space, at most half the text context); [] for no prompt."""
    text = prompt.strip()
    if not text:
        return []
    return [tokenizer.sot_prev, *tokenizer.encode(" " + text)[-(MAX_NEW_TOKENS - 1) :]]


def generation_length(cap: int, prompt_length: int) -> int:
    """CTranslate2's ``max_length`` for at most ``cap`` new tokens after ``prompt_length``
    prompt tokens: its Whisper generates min(max_length // 2, max_length - prompt_length + 1)
    (measured on tiny.en), so a long prompt would otherwise eat the decode's budget."""
    return max(2 * cap, cap + prompt_length - 1)


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

    def decode(self, audio: np.ndarray, allow_fallback: bool = True, prompt: str = "") -> Decoded:
        """The utterance's text. A doubtful decode is retried with ``retry_beam_size`` on the
        same encoding, then sent to the full window; ``allow_fallback=False`` skips both and
        keeps the doubtful text (partial transcripts must stay cheap). ``prompt``: text the
        decoder is conditioned on ("" : none)."""
        audio = np.asarray(audio, dtype=np.float32)
        seconds = len(audio) / SAMPLE_RATE
        if seconds > self.options.max_short_s:
            return self.full_window(audio, "long", prompt)
        encoder_output = self._encode(audio)
        tokenizer = self._tokenizer(self._language(encoder_output))
        beams = [self.options.beam_size]
        if allow_fallback and self.options.retry_beam_size:
            beams.append(self.options.retry_beam_size)
        for beam_size in beams:
            raw = self._generate(encoder_output, tokenizer, seconds, beam_size, prompt)
            if self._looped(raw, seconds) and allow_fallback and self.options.loop_pad_s:
                # the decoder read in circles: more silence after the speech shows it the end
                longer = self._encode(audio, self.options.loop_pad_s)
                second = self._generate(longer, tokenizer, seconds, beam_size, prompt)
                if not second.capped:
                    raw, encoder_output = second, longer
            decoded = self._judge(raw, seconds)
            if decoded.reason in ("short", "phantom") or not allow_fallback:
                return decoded
        return self.full_window(audio, decoded.reason, prompt)

    @staticmethod
    def _looped(raw: RawDecode, seconds: float) -> bool:
        """The cap stopped a decode that never left the speech (no segment after its end)."""
        return raw.capped and all(s.start < seconds for s in raw.segments)

    def raw_decode(self, audio: np.ndarray, prompt: str = "") -> RawDecode:
        """The model's output for the short window, before the guard and the checks."""
        encoder_output = self._encode(audio)
        tokenizer = self._tokenizer(self._language(encoder_output))
        return self._generate(encoder_output, tokenizer, len(audio) / SAMPLE_RATE, prompt=prompt)

    def _judge(self, raw: RawDecode, seconds: float) -> Decoded:
        """Keep the segments inside the speech, cut repeats, and say whether to doubt it.

        A decode that ran into the token cap is cut where it starts reading in circles (its
        last, open segment is kept up to there: dropping it lost the end of the utterance);
        the cap is a doubt only when nothing shows the speech was read to its end (no repeat,
        no segment after the speech)."""
        kept = [s for s in raw.segments if s.start < seconds]
        keep = drop_rereads([raw.text([s]) for s in kept])
        text, repeat_cut = cut_repeats(raw.text(kept[:keep]), looping=raw.capped)
        read_past = keep < len(raw.segments)
        repeat_cut = repeat_cut or keep < len(kept)
        ratio = compression_ratio(text)
        reason = self._doubt(raw, ratio, repeat_cut or read_past) or "short"
        if is_phantom(text, raw.no_speech_prob, raw.avg_logprob, self.options):
            text, reason = "", "phantom"
        return Decoded(
            text=text,
            fallback=False,
            reason=reason,
            repeat_cut=repeat_cut,
            avg_logprob=raw.avg_logprob,
            compression_ratio=ratio,
            no_speech_prob=raw.no_speech_prob,
        )

    def _doubt(self, raw: RawDecode, ratio: float, ended: bool) -> str | None:
        """Why the short-window text should not be trusted, or None (faster-whisper's rules)."""
        opts = self.options
        if (
            raw.no_speech_prob > opts.no_speech_threshold
            and raw.avg_logprob < opts.log_prob_threshold
        ):
            return "no_speech"  # the VAD heard speech: let the full window decide
        if raw.capped and not ended:
            return "token_cap"
        if ratio > opts.compression_ratio_threshold:
            return "compression_ratio"
        if raw.avg_logprob < opts.log_prob_threshold:
            return "log_prob"
        return None

    def full_window(self, audio: np.ndarray, reason: str, prompt: str = "") -> Decoded:
        """faster-whisper's own 30 s path for this utterance, temperature 0."""
        segments, _info = self.model.transcribe(
            audio,
            language=self.language,
            initial_prompt=prompt.strip() or None,
            beam_size=self.options.fallback_beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        segments = list(segments)
        text, repeat_cut = cut_repeats(" ".join(s.text.strip() for s in segments))
        no_speech = max((s.no_speech_prob for s in segments), default=1.0)
        log_prob = min((s.avg_logprob for s in segments), default=-math.inf)
        if is_phantom(text, no_speech, log_prob, self.options):
            text = ""
        return Decoded(
            text=text,
            fallback=True,
            reason=reason,
            repeat_cut=repeat_cut,
            avg_logprob=log_prob if segments else None,
            no_speech_prob=no_speech if segments else None,
        )

    def _generate(
        self,
        encoder_output,
        tokenizer,
        seconds: float,
        beam_size: int | None = None,
        prompt: str = "",
    ):
        opts = self.options
        start = prompt_tokens(tokenizer, prompt) + list(tokenizer.sot_sequence)
        if not opts.timestamps:
            start.append(tokenizer.no_timestamps)
        cap = min(MAX_NEW_TOKENS, math.ceil(opts.min_tokens + opts.tokens_per_s * seconds))
        result = self.model.model.generate(
            encoder_output,
            [start],
            beam_size=beam_size or opts.beam_size,
            max_length=generation_length(cap, len(start)),
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

    def _encode(self, audio: np.ndarray, pad_s: float | None = None):
        import ctranslate2

        pad = self.options.pad_s if pad_s is None else pad_s
        padded = np.concatenate([audio, np.zeros(round(pad * SAMPLE_RATE), "f4")])
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
