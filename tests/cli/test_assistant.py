"""The assistant chat, serve and bench load: bad settings fail before anything loads, and what
a command opened before the models is closed when loading fails."""

from __future__ import annotations

import socket

import pytest

from voicecli.cli.assistant import assistant_config, load_assistant
from voicecli.cli.main import app
from voicecli.cli.options import AssistantOptions
from voicecli.core.errors import ModelMissingError, UsageError
from voicecli.reply.brain import SkillsBrain
from voicecli.reply.context import Conversation, SkillContext


@pytest.fixture(autouse=True)
def no_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECLI_CONFIG", str(tmp_path / "none.toml"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (AssistantOptions(brain="oracle"), "unknown brain 'oracle'"),
        (AssistantOptions(llm="cloud"), "unknown LLM backend 'cloud'"),
        (AssistantOptions(llm="openai"), "the openai LLM backend needs a URL"),
        (AssistantOptions(voice="klingon"), "unknown voice 'klingon'"),
        (AssistantOptions(rate=20), "rate 20 is out of range"),
        (AssistantOptions(bias="always"), "stt.bias: 'always' is not one of skills, off"),
    ],
)
def test_bad_settings_fail_before_anything_loads(options, message):
    with pytest.raises(UsageError, match=message):
        assistant_config(options)


def test_options_reach_the_settings():
    config = assistant_config(AssistantOptions(brain="echo", voice="gmw/en-us", rate=200))
    assert (config.brain.name, config.tts.voice, config.tts.rate) == ("echo", "gmw/en-us", 200)
    assert config.stt.model == "tiny.en"  # not given: the default


def test_what_was_opened_is_closed_when_the_model_is_missing(tmp_path):
    config = assistant_config(AssistantOptions(model=str(tmp_path / "no-such-model")))
    sock = socket.create_server(("127.0.0.1", 0))
    with pytest.raises(ModelMissingError), load_assistant(config, opened=sock):
        raise AssertionError("loading should have failed")
    assert sock.fileno() == -1


def test_the_loaded_assistant_answers():
    config = assistant_config(AssistantOptions())
    sock = socket.create_server(("127.0.0.1", 0))
    with load_assistant(config, opened=sock) as assistant:
        assert isinstance(assistant.brain, SkillsBrain)
        context = SkillContext(Conversation())
        reply = "".join(assistant.brain.reply("what is two plus two", context))
        assert reply == "2 plus 2 is 4."
        assert assistant.engines.tts.synthesize("Four.").size > 0
    assert sock.fileno() != -1  # handed over: the caller's to close
    sock.close()


def test_chat_bias_flag_reaches_the_setting_and_a_bad_one_exits_2(cli, tmp_path):
    assert assistant_config(AssistantOptions(bias="skills")).stt.bias == "skills"
    result = cli.invoke(app, ["chat", "--bias", "sometimes", "--input", str(tmp_path / "a.wav")])
    assert result.exit_code == 2
    assert "stt.bias" in result.output
