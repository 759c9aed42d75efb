"""The dashboard's thermal panel, banner and slower refresh, drawn from made-up sysfs trees."""

from __future__ import annotations

import io
import time

from rich.console import Console
from support.thermal_fakes import FakeSysfs, fake_vcgencmd, realistic_machine

from voicecli.cli.controls import Controls
from voicecli.cli.dashboard import REFRESH_HZ, Dashboard
from voicecli.cli.dashboard_thermal import sparkline, thermal_panel
from voicecli.core.events import Reply
from voicecli.thermal.monitor import ThermalMonitor


def shown(renderable, width: int = 110) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def test_panel_shows_every_source_state_frequency_flags_and_trend(tmp_path):
    tree = realistic_machine(tmp_path / "sys", celsius=70.0, cpus=4)
    tree.cpu(1, 1200.0, 4200.0, 2000.0)  # one CPU's ceiling lowered: capped
    config = tree.config(vcgencmd=str(fake_vcgencmd(tmp_path / "bin", "0x50005")))
    monitor = ThermalMonitor(config)
    package = tmp_path / "sys/class/thermal/thermal_zone1/temp"
    for celsius in (70.0, 78.0, 84.0, 91.0):
        tree.set(package, celsius)
        monitor.poll()
    text = shown(thermal_panel(monitor))
    assert "HOT" in text
    assert "91.0 °C thermal_zone1:x86_pkg_temp *" in text  # the reading that drives the state
    assert "hwmon0:coretemp:Package id 0" in text
    assert "more sources" in text  # 8 readings, the 5 hottest listed
    assert "/ 4200 MHz" in text and "1 capped at 2000 MHz" in text
    assert "cpufreq_capped" in text and "vcgencmd_under_voltage" in text
    assert "0x50005 (under_voltage, throttled, under_voltage_occurred, throttled_occurred)" in text
    assert f"trend {sparkline([70, 78, 84, 91])} 70–91 °C" in text
    assert sparkline([70, 78, 84, 91]) == "▁▄▆█"


def test_no_sensor_is_said_plainly(tmp_path):
    monitor = ThermalMonitor(FakeSysfs(tmp_path).config())
    assert "waiting for the first reading" in shown(thermal_panel(monitor))
    monitor.poll()
    text = shown(thermal_panel(monitor))
    assert "no sensor" in text
    assert "-1" not in text and "trend" not in text and "frequency" not in text


def dashboard_screen(monitor: ThermalMonitor) -> tuple[Dashboard, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, height=40, color_system=None)
    return Dashboard(Controls(submit_text=lambda text: None), console, monitor=monitor), out


def test_dashboard_has_the_panel_and_the_banner_while_hot(tmp_path):
    tree = FakeSysfs(tmp_path)
    sensor = tree.zone(0, "x86_pkg_temp", 90.0)
    monitor = ThermalMonitor(tree.config())
    monitor.poll()
    screen, _ = dashboard_screen(monitor)
    text = shown(screen.render(), width=120)
    assert "Processor hot (90 °C): short answers until it cools below 80 °C" in text
    assert "thermal" in text and "90.0 °C thermal_zone0:x86_pkg_temp" in text
    tree.set(sensor, 75.0)  # below 80: protection off; above 72: still warm
    monitor.poll()
    text = shown(screen.render(), width=120)
    assert "Processor hot" not in text
    assert "state WARM" in text


def frames_in(screen: Dashboard, seconds: float) -> int:
    """Redraws while something shown changes every 20 ms, through a real Rich Live screen."""
    before = screen.frames
    with screen.shown():
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            screen.handle(Reply(t=0.0, turn=1, text=f"word {n}", final=False))
            time.sleep(0.02)
    return screen.frames - before


def test_refresh_slows_to_once_a_second_while_hot_and_comes_back(tmp_path):
    tree = FakeSysfs(tmp_path)
    sensor = tree.zone(0, "x86_pkg_temp", 95.0)
    monitor = ThermalMonitor(tree.config())
    monitor.poll()
    screen, out = dashboard_screen(monitor)
    hot = frames_in(screen, 2.0)
    tree.set(sensor, 60.0)
    monitor.poll()
    normal = frames_in(screen, 2.0)
    print(f"\nredraws in 2 s with changes every 20 ms: hot {hot}, normal {normal}")
    assert 1 <= hot <= 3  # once a second
    assert normal >= 2 * REFRESH_HZ * 0.5  # ~10 a second (halved for a busy machine)
    assert "Processor hot" in out.getvalue()
