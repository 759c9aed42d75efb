"""Barge-in settings: ``--barge-in/--no-barge-in`` and ``barge_in.enabled`` pick the mode
``chat`` gives the live audio (None: on where echo is cancelled, the default)."""

from voicecli.cli.commands.chat import _barge_in_mode
from voicecli.cli.main import app
from voicecli.core.config import load_config


def test_the_flags_need_the_microphone(cli, tmp_path):
    for flag in ("--barge-in", "--no-barge-in"):
        result = cli.invoke(app, ["chat", flag, "--input", str(tmp_path / "a.wav")])
        assert result.exit_code == 2, result.output
        assert "need --input mic" in result.output


def test_default_config_and_flags(tmp_path):
    missing = tmp_path / "none.toml"
    config = load_config(env={}, path=missing).config
    assert config.barge_in.enabled and config.barge_in.decide_s == 2.0
    assert _barge_in_mode(None, config) is None, "on where echo is cancelled"
    off = load_config(env={"VOICECLI_BARGE_IN_ENABLED": "false"}, path=missing).config
    assert _barge_in_mode(None, off) is False, "the config turns it off"
    assert _barge_in_mode(True, off) is True and _barge_in_mode(False, config) is False
