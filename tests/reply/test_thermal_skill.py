"""The system-status skill: temperature in words, state, load and memory, or "no sensor"."""

from __future__ import annotations

import re
import time

import pytest
from support.pipeline import of_type, run_pipeline
from support.thermal_fakes import FakeSysfs

from voicecli.reply.brain import FALLBACK, SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import SKILLS, system_status
from voicecli.reply.synth import compose
from voicecli.thermal.monitor import ThermalMonitor

STATUS = re.compile(r"; load average [\d.]+ and memory \d+ percent used\.$")


@pytest.fixture
def sysfs(tmp_path, monkeypatch) -> FakeSysfs:
    """A tree the skill reads through the settings (no monitor running)."""
    monkeypatch.setenv("VOICECLI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("VOICECLI_SYSFS_ROOT", str(tmp_path / "sys"))
    monkeypatch.setenv("VOICECLI_THERMAL_VCGENCMD", "")
    return FakeSysfs(tmp_path / "sys")


def ask(text: str, context: SkillContext | None = None) -> str:
    return "".join(SkillsBrain().reply(text, context or SkillContext(Conversation())))


def test_hot_processor_in_words(sysfs):
    sysfs.zone(0, "x86_pkg_temp", 90.2)
    reply = ask("How warm is the processor?")
    assert reply.startswith("The processor is at ninety degrees Celsius, which is hot")
    assert STATUS.search(reply), reply


def test_no_temperature_sensor_said_plainly(sysfs):
    reply = ask("What's the temperature of the CPU?")
    assert reply.startswith("There's no temperature sensor I can read")
    assert STATUS.search(reply), reply
    assert "-1" not in reply


@pytest.mark.parametrize(
    ("celsius", "words", "state"),
    [
        (45.0, "forty-five", "normal"),
        (77.4, "seventy-seven", "warm"),
        (101.0, "one hundred and one", "hot"),
    ],
)
def test_states_and_numbers(sysfs, celsius, words, state):
    sysfs.hwmon(0, "coretemp", {"Package id 0": celsius})
    assert f"at {words} degrees Celsius, which is {state}" in ask("system status")


def test_throttling_is_mentioned(sysfs):
    sysfs.zone(0, "cpu-thermal", 60.0)
    sysfs.cpu(0, 600.0, 1500.0, 600.0)
    assert "which is normal, and it is being slowed down;" in ask("what's the CPU temperature")


def test_the_monitor_in_the_context_is_used(sysfs, tmp_path):
    sysfs.zone(0, "x86_pkg_temp", 50.0)  # what the settings point at
    other = FakeSysfs(tmp_path / "monitored")
    other.zone(0, "x86_pkg_temp", 83.0)
    monitor = ThermalMonitor(other.config(interval_s=0.05)).start()
    context = SkillContext(Conversation(), thermal=lambda: monitor.status)
    try:
        deadline = time.monotonic() + 5.0
        while monitor.status is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the first poll
        reply = ask("Is it overheating?", context)
    finally:
        assert monitor.stop()
    assert "at eighty-three degrees Celsius, which is warm" in reply
    assert "fifty" in ask("how hot is the computer")  # no monitor: a one-shot reading


@pytest.mark.parametrize(
    "text",
    ["how hot is it outside?", "what's the temperature in Paris", "what time is it", "status"],
)
def test_other_questions_are_not_taken(text):
    assert system_status.answer(text) is None


def test_registered_as_a_skill():
    assert system_status in SKILLS
    assert ask("tell me a joke") == FALLBACK


@pytest.mark.slow
def test_spoken_question_through_the_pipeline(engines, sysfs):
    """Real speech -> tiny.en -> the skill, with the made-up tree at 90 C."""
    sysfs.zone(0, "x86_pkg_temp", 90.0)
    _, events = run_pipeline(engines, compose(0.5, "How warm is the processor?", 1.5))
    replies = of_type(events, "reply", final=True)
    assert len(replies) == 1, [e.text for e in of_type(events, "transcript")]
    assert replies[0].text.startswith("The processor is at ninety degrees Celsius, which is hot")
