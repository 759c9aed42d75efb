"""``voicecli chat`` with an LLM, in real subprocesses: a loopback server and the embedded model."""

from __future__ import annotations

import json
import subprocess

import pytest
import soundfile as sf
from support.cli import voicecli
from support.fake_llm import FakeLlm, stream

from voicecli.reply.synth import compose

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def question(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm-cli") / "question.wav"
    sf.write(str(path), compose(0.5, "Tell me about the moon.", 1.5), 16000)
    return path


def chat(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return voicecli("chat", "--fast", "--json", *args, timeout=timeout)


def events(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_chat_with_llm_url_answers_from_the_server(question):
    with FakeLlm() as server:
        server.scripts.append(stream("The moon is far away. ", "About 384 thousand km."))
        result = chat("--input", str(question), "--llm-url", server.url, "--llm-model", "m1")
    assert result.returncode == 0, result.stderr
    seen = events(result)
    replies = [e["text"] for e in seen if e["type"] == "reply" and e["final"]]
    assert replies == ["The moon is far away. About 384 thousand km."]
    metrics = [e for e in seen if e["type"] == "turn_metrics"]
    assert metrics[0]["first_token_ms"] is not None
    assert server.requests[0]["model"] == "m1"
    assert "moon" in server.requests[0]["messages"][-1]["content"].lower()


@pytest.mark.slow
def test_chat_with_the_embedded_model_prints_only_events(question):
    result = chat("--input", str(question), "--llm", "local")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # llama.cpp's log is silenced
    seen = events(result)  # every stdout line is an event: nothing else was printed
    reply = next(e["text"] for e in seen if e["type"] == "reply" and e["final"])
    assert reply.strip()
    assert next(e for e in seen if e["type"] == "turn_metrics")["first_token_ms"] > 0


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        (["--llm-url", "ftp://example.com/v1"], 2, "not an http(s) URL"),
        (["--llm", "gpt"], 2, "unknown LLM backend"),
        (["--llm", "local", "--llm-model", "/nowhere/model.gguf"], 5, "no GGUF model file"),
    ],
)
def test_bad_llm_options_fail_clearly(question, args, status, fragment):
    result = chat("--input", str(question), *args, timeout=60)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
