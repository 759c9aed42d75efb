"""``doctor`` and ``models`` list the WebRTC echo canceller, and say why when it is missing."""

import json
import re
import sys

from voicecli.cli.main import app


def test_doctor_lists_the_echo_canceller(cli):
    result = cli.invoke(app, ["doctor"])
    assert re.search(r"^ok\s+echo cancellation: WebRTC", result.output, re.M), result.output


def test_doctor_shows_the_echo_settings(cli, monkeypatch):
    result = cli.invoke(app, ["doctor"])
    assert "noise suppression on, high-pass filter off, gain control off" in result.output
    monkeypatch.setenv("VOICECLI_ECHO_AUTO_GAIN_CONTROL", "on")
    monkeypatch.setenv("VOICECLI_ECHO_NOISE_SUPPRESSION", "off")
    result = cli.invoke(app, ["doctor"])
    assert "noise suppression off, high-pass filter off, gain control on" in result.output


def test_doctor_says_why_without_it(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "livekit.rtc", None)
    result = cli.invoke(app, ["doctor"])
    line = next(x for x in result.output.splitlines() if "echo cancellation" in x)
    assert line.startswith("missing") and "pip install 'livekit>=1.2,<2'" in line
    assert result.exit_code == 0  # the offline default does not need it


def test_models_lists_it(cli):
    result = cli.invoke(app, ["models", "--json"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    echo = [row for row in rows if row["kind"] == "echo"]
    assert [row["id"] for row in echo] == ["webrtc-apm"]
    assert echo[0]["installed"] and echo[0]["license"] == "Apache-2.0"


def test_echo_cancel_needs_the_microphone(cli, tmp_path):
    result = cli.invoke(app, ["chat", "--echo-cancel", "--input", str(tmp_path / "a.wav")])
    assert result.exit_code == 2
    assert "--echo-cancel need --input mic" in result.output
