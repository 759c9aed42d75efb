"""Run benchmark utterances through the real pipeline and collect what each turn measured.

Why through the pipeline: the latencies that matter (end of speech -> transcript, voice to
voice) only exist there. Each corpus file is fed in real time by an ``ArraySource`` into its
own ``Pipeline`` (models shared), and everything is read back from the event bus. The only
addition is an observer around the STT engine that keeps the VAD-trimmed audio the listener
sent and whether the short window fell back, so ``--baseline`` can run
``WhisperModel.transcribe()`` on exactly the same audio -- and, when the pipeline had a
recognition prompt (``stt.bias``), once more with that same prompt, so the prompt's effect and
the short window's can be told apart. VAD cost per frame is measured apart,
by running a ``VadStream`` over the same audio (timing it inside the listener would disturb it).
With a language model (``brain``), each turn is labelled with what answered it: the skills, or
the LLM backend (its first token time, or its failure, shows it was asked).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voicecli.audio.source import ArraySource
from voicecli.bench.corpus import CorpusItem
from voicecli.core.audio_format import FRAME, SAMPLE_RATE
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.listen.stt import SpeechToText, SttResult
from voicecli.pipeline.pipeline import Engines, Pipeline
from voicecli.reply.brain import BRAINS, Brain
from voicecli.reply.synth import silence

LATENCY_FIELDS = (
    "eos_to_transcript_ms",
    "stt_compute_ms",
    "turn_wait_ms",
    "reply_ms",
    "tts_first_audio_ms",
    "voice_to_voice_ms",
)
BASELINE_BEAM = 5
LEAD_S = 0.5  # silence before each file (the real recordings' README asks for 0.5 s)


@dataclass
class SttCall:
    audio: np.ndarray
    result: SttResult
    prompt: str = ""
    used: bool = False


class RecordingStt:
    """The real ``SpeechToText``, plus a record of every call (audio in, result out)."""

    def __init__(self, engine: SpeechToText) -> None:
        self.engine = engine
        self.calls: list[SttCall] = []
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, **kwargs) -> SttResult:
        result = self.engine.transcribe(audio, **kwargs)
        with self._lock:
            self.calls.append(SttCall(audio, result, kwargs.get("prompt", "")))
        return result

    def __getattr__(self, name: str):
        return getattr(self.engine, name)

    def take(self, text: str) -> SttCall | None:
        """The latest unused call whose text became the turn's transcript."""
        with self._lock:
            for call in reversed(self.calls):
                if not call.used and call.result.text.strip() == text:
                    call.used = True
                    return call
        return None


@dataclass
class BaselineResult:
    text: str
    compute_ms: float


@dataclass
class TurnResult:
    turn: int
    text: str
    latencies: dict[str, float | None]
    utterance_s: float | None  # length of the VAD-trimmed audio the STT was given
    fallback: bool
    backend: str = "skills"  # what answered: the brain's own name, or the LLM backend's
    first_token_ms: float | None = None  # null when no LLM token came
    audio: np.ndarray | None = field(default=None, repr=False)
    baseline: BaselineResult | None = None
    prompt: str = ""  # the recognition prompt the pipeline decoded with ("" : none)
    baseline_prompted: BaselineResult | None = None  # transcribe() with that same prompt


@dataclass
class UtteranceRun:
    item: CorpusItem
    run: int
    turns: list[TurnResult]
    errors: list[str]

    @property
    def hypothesis(self) -> str:
        return " ".join(t.text for t in self.turns).strip()

    @property
    def baseline_hypothesis(self) -> str | None:
        if any(t.baseline is None for t in self.turns):
            return None
        return " ".join(t.baseline.text for t in self.turns).strip()


def run_utterance(
    engines: Engines,
    config: Config,
    item: CorpusItem,
    *,
    run: int = 0,
    tail_s: float = 1.5,
    realtime: bool = True,
    timeout_s: float = 120.0,
    brain: Brain | None = None,
    lead_s: float = LEAD_S,
) -> UtteranceRun:
    """Feed ``item`` (after ``lead_s`` of silence, since real clips such as the spoken digits
    start at the first sound, and with ``tail_s`` after it, so the turn ends by itself) to a
    pipeline.

    ``brain`` (shared between runs, closed by its owner) answers; default: the configured one.
    """
    if brain is None:
        brain = BRAINS[config.brain.name]()
    recorder = RecordingStt(engines.stt)
    bus = EventBus()
    sub = bus.subscribe(100_000, "bench")
    audio = np.concatenate([silence(lead_s), item.audio, silence(tail_s)])
    pipeline = Pipeline(
        config=config,
        engines=Engines(stt=recorder, tts=engines.tts, turn_model=engines.turn_model),
        source=ArraySource(audio, realtime=realtime, name=item.name),
        bus=bus,
        fast=not realtime,
        session=f"bench-{run}",
        system_interval_s=None,
        brain=brain,
    )
    events, errors = run_to_end(pipeline, sub, timeout_s + len(audio) / SAMPLE_RATE)
    turns = _turns(events, recorder, *reply_labels(brain))
    return UtteranceRun(item=item, run=run, turns=turns, errors=errors)


def run_to_end(pipeline: Pipeline, sub, timeout_s: float) -> tuple[list, list[str]]:
    """Start ``pipeline``, wait for its end (at most ``timeout_s``) and close it; returns every
    event its bus subscription ``sub`` got, and the errors among them."""
    pipeline.start()
    finished = pipeline.wait(timeout_s)
    pipeline.close()
    events = []
    while (event := sub.get(timeout=0)) is not None:
        events.append(event)
    errors = [f"{e.code}: {e.message}" for e in events if e.type == "error"]
    if not finished:
        errors.append(f"timeout: the pipeline did not finish within {timeout_s:.0f} s")
    return events, errors


def reply_labels(brain: Brain) -> tuple[str, str | None]:
    """The label of turns no LLM answered ("skills", or "echo"), and that of the LLM's turns
    (its backend's name: "local", "openai"; None without one)."""
    backend = getattr(brain, "backend", None)
    if backend is None:
        return brain.name, None
    return "skills", backend.name


def _turns(events: list, recorder: RecordingStt, plain: str, llm: str | None) -> list[TurnResult]:
    texts = {e.turn: e.text for e in events if e.type == "transcript" and e.final}
    llm_failed = {e.turn for e in events if e.type == "error" and e.code.startswith("llm_")}
    turns = []
    for metrics in (e for e in events if e.type == "turn_metrics"):
        text = texts.get(metrics.turn, "")
        call = recorder.take(text)
        asked_llm = metrics.first_token_ms is not None or metrics.turn in llm_failed
        turns.append(
            TurnResult(
                turn=metrics.turn,
                text=text,
                latencies={name: getattr(metrics, name) for name in LATENCY_FIELDS},
                utterance_s=len(call.audio) / SAMPLE_RATE if call else None,
                fallback=call.result.fallback if call else False,
                backend=llm if llm and asked_llm else plain,
                first_token_ms=metrics.first_token_ms,
                audio=call.audio if call else None,
                prompt=call.prompt if call else "",
            )
        )
    return turns


def run_baseline(engine: SpeechToText, audio: np.ndarray, prompt: str = "") -> BaselineResult:
    """faster-whisper's own path on one utterance: beam 5, temperature 0, VAD filter on;
    ``prompt`` is its ``initial_prompt`` (the same tokens the short window puts first)."""
    start = time.perf_counter()
    segments, _info = engine.model.transcribe(
        audio,
        language="en" if engine.english_only else None,
        beam_size=BASELINE_BEAM,
        temperature=0.0,
        vad_filter=True,
        initial_prompt=prompt or None,
    )
    text = " ".join(s.text.strip() for s in segments).strip()
    return BaselineResult(text=text, compute_ms=(time.perf_counter() - start) * 1000)


def vad_frame_times_ms(audio: np.ndarray, engine: str) -> list[float]:
    """Milliseconds each 512-sample frame of ``audio`` took in a fresh ``VadStream``."""
    from voicecli.audio.vad import VadStream

    stream = VadStream(engine)
    times = []
    for index in range(0, len(audio) - FRAME + 1, FRAME):
        frame = np.ascontiguousarray(audio[index : index + FRAME])
        start = time.perf_counter()
        stream.probability(frame)
        times.append((time.perf_counter() - start) * 1000)
    return times


def run_corpus(
    engines: Engines,
    config: Config,
    items: list[CorpusItem],
    *,
    repeat: int = 1,
    baseline: bool = False,
    warmup: bool = True,
    tail_s: float = 1.5,
    brain: Brain | None = None,
    on_progress: Callable[[str], None] = lambda name: None,
) -> tuple[list[UtteranceRun], list[float], float, float]:
    """Every item ``repeat`` times through the pipeline (plus the baseline on the same audio).

    ``brain`` answers every utterance (default: the configured brain, new for each). Returns
    the runs, VAD milliseconds per frame, and the wall and process CPU seconds spent in the
    pipeline runs (baseline and warm-up excluded).
    """
    import psutil

    process = psutil.Process()
    if warmup and items:
        run_utterance(engines, config, items[0], run=-1, tail_s=tail_s, brain=brain)
        if baseline:
            run_baseline(engines.stt, items[0].audio)
    runs, wall_s, cpu_s = [], 0.0, 0.0
    for run in range(repeat):
        for item in items:
            start_wall, start_cpu = time.perf_counter(), sum(process.cpu_times()[:2])
            # noise is fed fast: it has no latency to measure, only what was heard in it
            result = run_utterance(
                engines,
                config,
                item,
                run=run,
                tail_s=tail_s,
                brain=brain,
                realtime=not item.is_noise,
            )
            wall_s += time.perf_counter() - start_wall
            cpu_s += sum(process.cpu_times()[:2]) - start_cpu
            if baseline:
                for turn in result.turns:
                    if turn.audio is not None:
                        turn.baseline = run_baseline(engines.stt, turn.audio)
                    if turn.audio is not None and turn.prompt:
                        turn.baseline_prompted = run_baseline(engines.stt, turn.audio, turn.prompt)
            runs.append(result)
            on_progress(item.name)
    vad_ms = [ms for item in items for ms in vad_frame_times_ms(item.audio, config.vad.engine)]
    return runs, vad_ms, wall_s, cpu_s
