"""Thermal readers against made-up sysfs trees and a fake vcgencmd on PATH."""

from __future__ import annotations

import os
from collections import namedtuple

import pytest
from support.thermal_fakes import FakeSysfs, fake_vcgencmd, realistic_machine, write

from voicecli.core.events import WarningEvent
from voicecli.thermal import vcgencmd as thermal_vcgencmd
from voicecli.thermal.monitor import ThermalMonitor, read_status
from voicecli.thermal.sources import discover, read


def test_cold_machine(tmp_path):
    tree = realistic_machine(tmp_path, celsius=45.0)
    status = read_status(tree.config())
    assert status.state == "normal"
    assert status.temp_c == 45.0
    assert status.source in {"thermal_zone1:x86_pkg_temp", "hwmon0:coretemp:Package id 0"}
    assert not status.throttled and status.throttle_reasons == ()
    assert status.actions == ()
    assert not status.problems
    kinds = {t.source: t.kind for t in status.temperatures}
    assert kinds["thermal_zone0:acpitz"] == "other"
    assert kinds["thermal_zone2:iwlwifi_1"] == "device"
    assert kinds["hwmon1:nvme:Composite"] == "device"
    assert kinds["hwmon0:coretemp:Core 0"] == "cpu"
    assert len(status.temperatures) == 3 + 1 + 4 + 1
    assert [f.cpu for f in status.freqs] == [f"cpu{n}" for n in range(8)]
    assert status.freqs[0].cur_mhz == 1800.0 and status.freqs[0].max_mhz == 4200.0


def test_hottest_processor_reading_drives_the_state_not_other_devices(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.zone(0, "x86_pkg_temp", 60.0)
    tree.hwmon(0, "coretemp", {"Package id 0": 78.5, "Core 0": 70.0})
    tree.hwmon(1, "nvme", {"Composite": 95.0})  # a hot drive is not a hot processor
    status = read_status(tree.config())
    assert (status.state, status.temp_c, status.source) == (
        "warm",
        78.5,
        "hwmon0:coretemp:Package id 0",
    )


def test_only_hwmon_without_labels(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.hwmon(3, "k10temp", {None: 86.0})
    status = read_status(tree.config())
    assert (status.state, status.temp_c, status.source) == ("hot", 86.0, "hwmon3:k10temp:temp1")
    assert status.freqs == ()


def test_unrecognised_reading_used_only_without_a_processor_reading(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.zone(0, "acpitz", 76.0)
    assert read_status(tree.config()).state == "warm"
    tree.zone(1, "cpu-thermal", 50.0)
    status = read_status(tree.config())
    assert (status.state, status.source) == ("normal", "thermal_zone1:cpu-thermal")


@pytest.mark.parametrize("make", ["nothing", "missing_root", "devices_only"])
def test_no_sensor_is_a_state_not_a_number(tmp_path, make):
    root = tmp_path / "sys"
    if make == "nothing":
        root.mkdir()
    elif make == "devices_only":
        FakeSysfs(root).hwmon(0, "nvme", {"Composite": 40.0})
    status = read_status(FakeSysfs(tmp_path).config(sysfs_root=str(root)))
    assert (status.state, status.label, status.temp_c, status.source) == (
        "no_sensor",
        "no sensor",
        None,
        None,
    )
    assert not status.throttled and not status.problems
    assert status.system_fields() == {
        "temp_c": None,
        "temp_source": None,
        "thermal_state": "no_sensor",
        "throttled": False,
    }


def test_malformed_files_are_skipped_with_one_warning_each(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.zone(0, "x86_pkg_temp", 50.0)
    empty = tree.zone(1, "cpu-thermal", None)
    garbage = write(tree.zone(2, "cpu-thermal", 0), "hot!\n")
    unreadable = tmp_path / "class/thermal/thermal_zone3/temp"
    unreadable.mkdir(parents=True)  # exists, but reading it fails (tests run as root: no chmod)
    write(unreadable.parent / "type", "soc_thermal\n")
    [bogus] = tree.hwmon(0, "coretemp", {"Core 0": -274.0})
    bad_freq = tree.cpu(0, 1000.0, 2000.0) / "cpufreq/cpuinfo_max_freq"
    write(bad_freq, "fast\n")
    events = []
    monitor = ThermalMonitor(tree.config(), events.append)
    for _ in range(5):
        status = monitor.poll()
    assert (status.state, status.temp_c) == ("normal", 50.0)
    reasons = {p.source: p.reason for p in status.problems}
    assert reasons == {
        str(empty): "empty",
        str(garbage): "not a number: 'hot!'",
        str(unreadable): "unreadable (Is a directory)",
        str(bogus): "implausible temperature -274 C",
        str(bad_freq): "not a number: 'fast'",
    }
    warnings = [e for e in events if isinstance(e, WarningEvent)]
    assert sorted(w.message.split()[2].rstrip(":") for w in warnings) == sorted(reasons)
    assert {w.code for w in warnings} == {"thermal_source_malformed"}
    assert status.freqs == ()


def test_capped_frequency_sets_throttled_but_idle_clock_down_does_not(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.zone(0, "x86_pkg_temp", 60.0)
    tree.cpu(0, 800.0, 3400.0, 3400.0)  # idle, clocked down: not throttled
    tree.cpu(1, 3400.0, 3400.0)  # no scaling_max_freq file
    status = read_status(tree.config())
    assert not status.throttled
    assert [f.capped for f in status.freqs] == [False, False]
    tree.cpu(1, 1200.0, 3400.0, 1200.0)  # a cooling driver lowered the ceiling
    status = read_status(tree.config())
    assert status.throttled and status.throttle_reasons == ("cpufreq_capped",)
    assert status.freqs[1].limit_mhz == 1200.0


def test_discovery_and_read_are_separate(tmp_path):
    """The layout is found once; later polls read only the files it lists."""
    tree = FakeSysfs(tmp_path)
    path = tree.zone(0, "x86_pkg_temp", 40.0)
    layout = discover(tmp_path)
    assert [(s, k) for s, k, _ in layout.temps] == [("thermal_zone0:x86_pkg_temp", "cpu")]
    assert not layout.psutil  # psutil only for the real /sys
    tree.set(path, 41.5)
    assert read(layout).temperatures[0].celsius == 41.5


# -- vcgencmd ------------------------------------------------------------------------------
@pytest.fixture
def vcgencmd(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    script = fake_vcgencmd(folder)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return script


@pytest.mark.parametrize(
    ("bits", "names", "reasons"),
    [
        ("0x0", (), ()),
        ("0x1", ("under_voltage",), ("vcgencmd_under_voltage",)),
        ("0x2", ("freq_capped",), ("vcgencmd_freq_capped",)),
        ("0x4", ("throttled",), ("vcgencmd_throttled",)),
        ("0x8", ("soft_temp_limit",), ("vcgencmd_soft_temp_limit",)),
        ("0x10000", ("under_voltage_occurred",), ()),
        ("0x20000", ("freq_capped_occurred",), ()),
        ("0x40000", ("throttled_occurred",), ()),
        ("0x80000", ("soft_temp_limit_occurred",), ()),
        (
            "0x50005",
            ("under_voltage", "throttled", "under_voltage_occurred", "throttled_occurred"),
            ("vcgencmd_under_voltage", "vcgencmd_throttled"),
        ),
        (
            "0xf000f",
            tuple(thermal_vcgencmd.BITS.values()),
            (
                "vcgencmd_under_voltage",
                "vcgencmd_freq_capped",
                "vcgencmd_throttled",
                "vcgencmd_soft_temp_limit",
            ),
        ),
    ],
)
def test_vcgencmd_every_bit(tmp_path, vcgencmd, bits, names, reasons):
    write(vcgencmd.parent / "value", bits)
    tree = FakeSysfs(tmp_path / "sys")
    tree.zone(0, "cpu-thermal", 50.0)
    status = read_status(tree.config(vcgencmd="vcgencmd"))  # found on PATH
    assert status.vcgencmd_bits == int(bits, 16)
    assert thermal_vcgencmd.decode(status.vcgencmd_bits) == names
    assert status.throttle_reasons == reasons
    assert status.throttled == bool(reasons)
    assert not status.problems


def test_vcgencmd_occurred_bit_rising_between_polls_is_a_throttle_event(tmp_path, vcgencmd):
    tree = FakeSysfs(tmp_path / "sys")
    tree.zone(0, "cpu-thermal", 50.0)
    monitor = ThermalMonitor(tree.config(vcgencmd=str(vcgencmd)), throttle_hold_s=60.0)
    assert not monitor.poll().throttled
    write(vcgencmd.parent / "value", "0x40000")  # throttled between two polls
    status = monitor.poll()
    assert status.throttled and status.throttle_reasons == ("vcgencmd_occurred",)


def test_vcgencmd_missing_or_disabled_is_no_source(tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.zone(0, "cpu-thermal", 50.0)
    for command in ("", "no-such-vcgencmd-here"):
        monitor = ThermalMonitor(tree.config(vcgencmd=command))
        assert monitor.vcgencmd is None
        status = monitor.poll()
        assert status.vcgencmd_bits is None and not status.problems


@pytest.mark.parametrize("answer", ["garbage", "throttled=", "error\nexit 1"])
def test_vcgencmd_malformed_answer_is_skipped_with_one_warning(tmp_path, vcgencmd, answer):
    if answer.endswith("exit 1"):
        write(vcgencmd, "#!/bin/sh\necho 'VCHI initialization failed' >&2\nexit 1\n")
    else:
        write(vcgencmd, f"#!/bin/sh\necho '{answer}'\n")
    vcgencmd.chmod(0o755)
    tree = FakeSysfs(tmp_path / "sys")
    tree.zone(0, "cpu-thermal", 50.0)
    events = []
    monitor = ThermalMonitor(tree.config(vcgencmd=str(vcgencmd)), events.append)
    for _ in range(3):
        status = monitor.poll()
    assert status.vcgencmd_bits is None and status.temp_c == 50.0
    assert [p.source for p in status.problems] == [str(vcgencmd)]
    warnings = [e for e in events if e.type == "warning"]
    assert len(warnings) == 1 and "get_throttled" in warnings[0].message


def test_new_sensors_are_found_on_rescan(tmp_path, monkeypatch):
    from voicecli.thermal import monitor as thermal_monitor

    tree = FakeSysfs(tmp_path)
    monitor = ThermalMonitor(tree.config())
    assert monitor.poll().state == "no_sensor"
    tree.zone(0, "cpu-thermal", 70.0)
    assert monitor.poll().state == "no_sensor"  # the layout is kept between rescans
    monkeypatch.setattr(thermal_monitor, "RESCAN_S", 0.0)
    assert monitor.poll().state == "normal"


def test_psutil_only_for_the_real_sys_without_sensor_files(tmp_path, monkeypatch):
    """psutil's sensors stand in for a real sensor (none exists in this container)."""
    import psutil

    shwtemp = namedtuple("shwtemp", "label current high critical")  # psutil's entry shape

    if discover("/sys").temps:
        pytest.skip("this machine has sensor files: psutil is not consulted")
    chips = {"coretemp": [shwtemp("Package id 0", 88.0, 100.0, 105.0)]}
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: chips)
    status = read_status(FakeSysfs(tmp_path).config(sysfs_root="/sys"))
    assert (status.state, status.temp_c, status.source) == (
        "hot",
        88.0,
        "psutil:coretemp:Package id 0",
    )
    assert read_status(FakeSysfs(tmp_path).config()).state == "no_sensor"  # a made-up root


def test_doctor_lists_the_sources(tmp_path, vcgencmd):
    from typer.testing import CliRunner

    from voicecli.cli.main import app

    tree = realistic_machine(tmp_path / "sys", celsius=50.0, cpus=2)
    write(tree.root / "class/thermal/thermal_zone0/temp", "oops\n")
    write(vcgencmd.parent / "value", "0x50000")
    env = {"VOICECLI_CONFIG": str(tmp_path / "none.toml"), "VOICECLI_SYSFS_ROOT": str(tree.root)}
    result = CliRunner().invoke(app, ["doctor"], env=env)
    lines = result.output.splitlines()
    assert "ok       thermal: thermal_zone1:x86_pkg_temp 50.0 °C (processor)" in lines
    assert "ok       thermal: hwmon1:nvme:Composite 38.0 °C" in lines
    assert "ok       cpufreq: 2 CPUs (cpu0 1800 of 4200 MHz; 0 capped)" in lines
    assert (
        "ok       vcgencmd: throttled=0x50000 (under_voltage_occurred, throttled_occurred)" in lines
    )
    bad = tree.root / "class/thermal/thermal_zone0/temp"
    assert f"missing  thermal source {bad}: not a number: 'oops'" in lines
    assert "ok       thermal state: normal" in lines
