"""``chat --wake-word`` on the command line: bad names, a missing or broken package, the
listing in ``models`` and ``doctor``, and a real run on a file with ``--plain``."""

from __future__ import annotations

import json
import sys

import soundfile as sf
from support.cli import voicecli
from support.wake import scene

from voicecli.core import catalogue
from voicecli.core.clock import SAMPLE_RATE
from voicecli.listen.wake import WAKE_WORDS

RUN = (
    "import sys; {setup}\nfrom voicecli.cli.main import run\n"
    "sys.argv = ['voicecli', *sys.argv[1:]]\nrun()\n"
)
NO_PACKAGE = RUN.format(setup="sys.modules['pymicro_wakeword'] = None")
BROKEN_LIBRARY = RUN.format(
    setup=(
        "import ctypes\nreal = ctypes.CDLL\n"
        "def cdll(name, *a, **k):\n"
        "    if 'tensorflowlite' in str(name): raise OSError(f'{name}: cannot open')\n"
        "    return real(name, *a, **k)\n"
        "ctypes.CDLL = cdll"
    )
)


def run_code(code: str, *args: str):
    import subprocess

    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_unknown_wake_word_exits_2_listing_the_names(tmp_path):
    for done in (
        voicecli("chat", "--wake-word", "computer", "--input", "x.wav"),
        voicecli("chat", "--input", "x.wav", env={"VOICECLI_WAKE_WORD": "jarvis"}),
    ):
        assert done.returncode == 2
        assert "okay_nabu, alexa, hey_jarvis, hey_mycroft" in done.stderr
        assert "Traceback" not in done.stderr


def test_missing_package_or_broken_library_exits_5_in_one_line(tmp_path):
    for code in (NO_PACKAGE, BROKEN_LIBRARY):
        done = run_code(code, "chat", "--wake-word", "alexa", "--input", "x.wav")
        assert done.returncode == 5, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "wake word" in done.stderr and "Traceback" not in done.stderr
    # without a wake word the same process runs on (a file that does not exist: exit 3)
    assert run_code(NO_PACKAGE, "chat", "--input", str(tmp_path / "none.wav")).returncode == 3


def test_models_and_doctor_list_the_wake_words():
    rows = [json.loads(line) for line in voicecli("models", "--json").stdout.splitlines()]
    wake = {row["id"]: row for row in rows if row["kind"] == "wake"}
    assert set(wake) == set(WAKE_WORDS) == {e.id for e in catalogue.entries() if e.kind == "wake"}
    assert all(row["installed"] for row in wake.values())
    doctor = voicecli("doctor").stdout
    assert "wake words (okay_nabu, alexa, hey_jarvis, hey_mycroft): pymicro-wakeword 2.5" in doctor


def test_chat_plain_on_a_file_wakes_and_answers(tmp_path):
    audio, _ = scene(1.0, "what day is it", 1.5, "okay nabu what time is it", 2.0)
    path = tmp_path / "wake.wav"
    sf.write(path, audio, SAMPLE_RATE)
    done = voicecli(
        "chat", "--input", str(path), "--plain", "--wake-word", "okay_nabu", "--linger", "0"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any('asleep, say "okay nabu"' in line for line in lines), lines
    assert any("wake word: okay nabu (0." in line for line in lines), lines
    you = [line for line in lines if "you:" in line]
    assert len(you) == 1 and "time" in you[0].lower(), lines  # "what day is it" not heard
    assert any("follow-up 5 s left" in line for line in lines), done.stdout
