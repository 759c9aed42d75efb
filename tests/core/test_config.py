"""Settings: defaults < TOML file < VOICECLI_* env < flags, with clear errors."""

from __future__ import annotations

import pytest

from voicecli.core.config import config_path, env_name, load_config
from voicecli.core.errors import UsageError


def test_precedence_file_env_flag(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[stt]\nmodel = "from-file"\nbeam_size = 3\n[tts]\nrate = 150\n')
    loaded = load_config(env={}, path=path)
    assert loaded.config.stt.model == "from-file"
    assert loaded.config.stt.beam_size == 3
    assert loaded.sources["stt.model"] == "file"
    assert loaded.sources["vad.threshold"] == "default"

    env = {"VOICECLI_STT_MODEL": "from-env", "VOICECLI_TTS_RATE": "190"}
    loaded = load_config(env=env, path=path)
    assert loaded.config.stt.model == "from-env"
    assert loaded.config.tts.rate == 190
    assert loaded.sources["stt.model"] == "env"

    loaded = load_config({"stt.model": "from-flag", "tts.rate": None}, env=env, path=path)
    assert loaded.config.stt.model == "from-flag"
    assert loaded.sources["stt.model"] == "flag"
    assert loaded.config.tts.rate == 190  # a flag not given does not override


def test_config_path_honours_env(tmp_path):
    assert config_path({"VOICECLI_CONFIG": str(tmp_path / "x.toml")}) == tmp_path / "x.toml"
    assert config_path({}).name == "config.toml"
    assert env_name("vad.min_speech_ms") == "VOICECLI_VAD_MIN_SPEECH_MS"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[stt]\nbeam_size = 'many'\n", "not a valid int"),
        ("[nope]\nx = 1\n", "unknown setting 'nope.x'"),
        ("stt = 3\n", "must be a table"),
        ("[stt\n", "cannot read config file"),
    ],
)
def test_bad_files_are_usage_errors(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(env={}, path=path)


def test_bad_env_value_names_the_setting(tmp_path):
    with pytest.raises(UsageError, match="stt.allow_download"):
        load_config(env={"VOICECLI_STT_ALLOW_DOWNLOAD": "perhaps"}, path=tmp_path / "none.toml")
