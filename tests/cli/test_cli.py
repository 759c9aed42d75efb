"""The command line in real subprocesses: exit codes, messages, JSON output, signals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import jiwer
import numpy as np
import pytest
import soundfile as sf
from support.cli import command, voicecli
from support.schema import validate_event

from voicecli.audio.file import load_audio

JFK = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text.lower())).strip()


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voicecli: error: "), result.stderr
    assert fragment in lines[0]


def test_version_and_help():
    result = voicecli("--version")
    assert result.returncode == 0 and result.stdout.startswith("voicecli ")
    result = voicecli("--help")
    assert result.returncode == 0
    for name in ("chat", "transcribe", "doctor"):
        assert name in result.stdout


def test_transcribe_jfk_and_a_24bit_8k_stereo_copy(shared_audio, tmp_path):
    copy = tmp_path / "jfk_8k_24bit_stereo.wav"
    mono = load_audio(shared_audio / "jfk.flac")
    import soxr

    low = soxr.resample(mono, 16000, 8000)
    sf.write(str(copy), np.stack([low, low], axis=1), 8000, subtype="PCM_24", format="WAVEX")
    result = voicecli("transcribe", "--json", str(shared_audio / "jfk.flac"), str(copy))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(shared_audio / "jfk.flac"), str(copy)]
    for record in records:
        assert jiwer.wer(normalise(JFK), normalise(record["text"])) <= 0.05, record
        assert record["duration_s"] == pytest.approx(11.0, abs=0.1)
        assert record["stt_ms"] > 0


def test_transcribe_does_every_file_then_exits_3(shared_audio, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio" * 100)
    result = voicecli("transcribe", "--json", str(bad), str(shared_audio / "jfk.flac"))
    assert result.returncode == 3
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["file"] == str(bad) and "not a readable audio file" in records[0]["error"]
    assert "fellow americans" in records[1]["text"].lower()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content, fragment",
    [
        (None, "no such file"),
        (b"\x00\x01garbage bytes that are not audio" * 50, "not a readable audio file"),
        (b"", "the file is empty"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00", "not a readable audio file"),
    ],
    ids=["missing", "undecodable", "empty", "truncated-header"],
)
def test_chat_bad_input_exits_3_with_one_line(tmp_path, content, fragment):
    path = tmp_path / "input.wav"
    if content is not None:
        path.write_bytes(content)
    assert_clean_failure(voicecli("chat", "--input", str(path), "--fast"), 3, fragment)


def test_missing_model_directory_exits_5(tmp_path):
    result = voicecli("chat", "--demo", "--fast", "--model", str(tmp_path / "no-model"))
    assert_clean_failure(result, 5, "not found")
    result = voicecli("transcribe", "--model", "./nowhere", str(tmp_path / "x.wav"))
    assert result.returncode == 5


def test_usage_errors_exit_2():
    assert voicecli("chat", "--input").returncode == 2  # option without its value
    assert voicecli("chat", "--demo", "--json", "--plain").returncode == 2
    assert voicecli("--log-level", "loud", "doctor").returncode == 2
    assert voicecli("chat", "--demo", "--bogus-flag").returncode == 2


def test_demo_json_lines_validate_against_the_schema():
    result = voicecli("chat", "--demo", "--json", "--fast")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events
    for event in events:
        validate_event(event)
    finals = [e["text"] for e in events if e["type"] == "reply" and e["final"]]
    assert len(finals) == 3
    assert finals[0] == "12 times 8 is 96."
    assert finals[2] == "You asked: What time is it?"


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_during_a_real_time_run(sig, code):
    process = subprocess.Popen(
        command("chat", "--demo", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()  # the pipeline is running (its thermal monitor polled)
    assert json.loads(first)["type"] in ("speech_start", "system", "thermal")
    start = time.monotonic()
    process.send_signal(sig)
    out, err = process.communicate(timeout=10)
    elapsed = time.monotonic() - start
    print(f"{sig.name}: exited in {elapsed * 1000:.0f} ms")
    assert process.returncode == code, err
    assert elapsed < 5
    assert "Traceback" not in err


def test_doctor_reports_the_essentials():
    result = voicecli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^ok\s+STT model tiny.en: found", result.stdout, re.M)
    assert re.search(r"^ok\s+espeak-ng: found", result.stdout, re.M)
    assert re.search(r"^ok\s+TTS engine loaded: piper \(voice piper:joe\)", result.stdout, re.M)
    assert "PortAudio" in result.stdout
