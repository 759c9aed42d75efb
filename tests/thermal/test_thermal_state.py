"""Hysteresis, the throttled flag, thresholds from config and their validation."""

from __future__ import annotations

import pytest
from support.thermal_fakes import FakeSysfs
from typer.testing import CliRunner

from voicecli.cli.main import app
from voicecli.core.config import load_config
from voicecli.core.errors import ExitStatus, UsageError
from voicecli.thermal.monitor import ThermalMonitor
from voicecli.thermal.sources import CpuFreq, SysfsReading
from voicecli.thermal.state import (
    MISSING_GRACE,
    StateMachine,
    Thresholds,
    ThrottleTracker,
    classify,
    next_state,
)

TH = Thresholds()


def run(temps: list[float | None], thresholds: Thresholds = TH) -> list[str]:
    machine = StateMachine(thresholds)
    return [machine.update(t) for t in temps]


@pytest.mark.parametrize(
    ("state", "temp", "expected"),
    [
        (None, 74.9, "normal"),
        (None, 75.0, "warm"),
        (None, 85.0, "hot"),
        (None, None, "no_sensor"),
        ("normal", 74.9, "normal"),
        ("normal", 75.0, "warm"),
        ("normal", 90.0, "hot"),
        ("warm", 72.0, "warm"),
        ("warm", 71.9, "normal"),
        ("warm", 84.9, "warm"),
        ("warm", 85.0, "hot"),
        ("hot", 80.0, "hot"),
        ("hot", 84.9, "hot"),
        ("hot", 79.9, "warm"),
        ("hot", 71.0, "normal"),
        ("hot", None, "no_sensor"),
        ("no_sensor", 80.0, "warm"),
    ],
)
def test_transitions(state, temp, expected):
    assert next_state(state, temp, TH) == expected


def test_rising_then_cooling_machine():
    temps = [40, 60, 74, 75, 78, 84, 85, 90, 95, 88, 82, 80, 79.9, 75, 72, 71.9, 60]
    assert run(temps) == (
        ["normal"] * 3 + ["warm"] * 3 + ["hot"] * 6 + ["warm"] * 3 + ["normal"] * 2
    )


def test_flapping_between_80_and_85_does_not_flap_the_state():
    flapping = [80.0, 84.9] * 20
    assert set(run([70.0, *flapping])) == {"normal", "warm"}
    assert run([70.0, *flapping])[1:] == ["warm"] * len(flapping)
    after_hot = run([86.0] + [80.0, 85.0, 84.0, 80.5] * 10)
    assert after_hot == ["hot"] * 41


def test_a_sensor_vanishing_for_a_poll_keeps_the_state():
    grace = [None] * (MISSING_GRACE - 1)
    assert run([90.0, *grace, 90.0]) == ["hot"] * (MISSING_GRACE + 1)
    assert run([90.0, *grace, None])[-1] == "no_sensor"
    assert run([None, 50.0]) == ["no_sensor", "normal"]


def test_custom_thresholds():
    th = Thresholds(warn_c=60.0, hot_c=70.0, resume_c=65.0)
    assert run([59, 60, 69, 70, 66, 65, 64.9, 57.5, 56.9], th) == (
        ["normal"] + ["warm"] * 2 + ["hot"] * 3 + ["warm"] * 2 + ["normal"]
    )
    assert classify(72.0, th) == "hot" and classify(None, th) == "no_sensor"


@pytest.mark.parametrize(
    ("warn", "hot", "resume", "message"),
    [
        (75, 85, 85, "thermal.resume_c (85) must be below thermal.hot_c (85)"),
        (75, 85, 90, "thermal.resume_c (90) must be below thermal.hot_c (85)"),
        (90, 85, 80, "thermal.warn_c (90) must not be above thermal.hot_c (85)"),
    ],
)
def test_bad_thresholds_are_refused(warn, hot, resume, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Thresholds(warn, hot, resume)


def test_thresholds_from_env_and_the_sysfs_root_alias(tmp_path):
    env = {
        "VOICECLI_CONFIG": str(tmp_path / "none.toml"),
        "VOICECLI_THERMAL_WARN_C": "60",
        "VOICECLI_THERMAL_HOT_C": "70",
        "VOICECLI_THERMAL_RESUME_C": "65.5",
        "VOICECLI_THERMAL_INTERVAL_S": "0.25",
        "VOICECLI_SYSFS_ROOT": "/tmp/fake-sys",
    }
    loaded = load_config(env=env)
    thermal = loaded.config.thermal
    assert (thermal.warn_c, thermal.hot_c, thermal.resume_c, thermal.interval_s) == (
        60.0,
        70.0,
        65.5,
        0.25,
    )
    assert thermal.sysfs_root == "/tmp/fake-sys"
    assert loaded.sources["thermal.sysfs_root"] == "env"
    env["VOICECLI_THERMAL_SYSFS_ROOT"] = "/tmp/canonical"  # the canonical name wins
    assert load_config(env=env).config.thermal.sysfs_root == "/tmp/canonical"


def test_thresholds_from_the_config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[thermal]\nhot_c = 90\nresume_c = 82\nvcgencmd = ''\n")
    thermal = load_config(env={}, path=path).config.thermal
    assert (thermal.hot_c, thermal.resume_c, thermal.vcgencmd) == (90.0, 82.0, "")
    assert Thresholds.from_config(thermal) == Thresholds(75.0, 90.0, 82.0)


def test_monitor_refuses_a_bad_interval(tmp_path):
    with pytest.raises(UsageError, match="interval_s must be positive"):
        ThermalMonitor(FakeSysfs(tmp_path).config(interval_s=0))


def test_cli_exits_2_with_a_clear_message_on_resume_above_hot(tmp_path):
    env = {
        "VOICECLI_CONFIG": str(tmp_path / "none.toml"),
        "VOICECLI_THERMAL_RESUME_C": "86",
        "VOICECLI_SYSFS_ROOT": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == ExitStatus.USAGE
    assert "thermal.resume_c (86) must be below thermal.hot_c (85)" in result.output
    assert "Traceback" not in result.output


def reading(counters=None, capped=False) -> SysfsReading:
    freq = CpuFreq("cpu0", 1000.0, 3000.0, 1000.0 if capped else 3000.0)
    return SysfsReading(freqs=(freq,), counters=counters or {})


def test_throttle_counter_rise_is_held_then_clears():
    tracker = ThrottleTracker(hold_s=5.0)
    assert tracker.update(0.0, reading({"cpu0/core_throttle_count": 7}), None) == ()
    assert tracker.update(1.0, reading({"cpu0/core_throttle_count": 9}), None) == (
        "throttle_counter",
    )
    assert tracker.update(5.9, reading({"cpu0/core_throttle_count": 9}), None) == (
        "throttle_counter",
    )
    assert tracker.update(6.1, reading({"cpu0/core_throttle_count": 9}), None) == ()


def test_throttle_reasons_combine():
    tracker = ThrottleTracker()
    tracker.update(0.0, reading(), 0x10000)  # occurred since boot: history, not now
    reasons = tracker.update(1.0, reading(capped=True), 0x50005)
    assert reasons == (
        "cpufreq_capped",
        "vcgencmd_under_voltage",
        "vcgencmd_throttled",
        "vcgencmd_occurred",
    )
