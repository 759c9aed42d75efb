"""The dashboard's thermal panel and banner, drawn from the thermal monitor's latest poll.

Why from the monitor and not the events: the panel shows every reading (each source, each
CPU's frequency, the Pi's flags) and a temperature trend, which the ``thermal`` and ``system``
events do not carry. "no sensor" is written plainly, never a made-up number.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.panel import Panel
from rich.text import Text

from voicecli.thermal.monitor import ThermalMonitor, ThermalStatus
from voicecli.thermal.state import HOT, NO_SENSOR, WARM
from voicecli.thermal.vcgencmd import decode

SPARKS = "▁▂▃▄▅▆▇█"
SOURCES_SHOWN = 5  # hottest first; the rest are counted
STATE_STYLES = {HOT: "bold white on red", WARM: "bold yellow", NO_SENSOR: "dim"}


def sparkline(values: Iterable[float | None], width: int = 40) -> str:
    """The last ``width`` values as block characters; a gap (no reading) is a space."""
    values = list(values)[-width:]
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(
        " " if v is None else SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values
    )


def _frequency(status: ThermalStatus) -> str | None:
    if not status.freqs:
        return None
    cur = sum(f.cur_mhz for f in status.freqs) / len(status.freqs)
    top = max(f.max_mhz for f in status.freqs)
    line = f"{cur:.0f} / {top:.0f} MHz ({100 * cur / top:.0f} %, mean of {len(status.freqs)})"
    capped = [f for f in status.freqs if f.capped]
    if capped:
        ceiling = min(f.limit_mhz for f in capped)
        line += f", {len(capped)} capped at {ceiling:.0f} MHz"
    return line


def _row(text: Text, label: str, value: str, style: str = "") -> None:
    text.append(f"{label:>11} ", style="dim")
    text.append(value + "\n", style=style)


def thermal_text(status: ThermalStatus | None, history: Iterable[float | None] = ()) -> Text:
    text = Text()
    if status is None:
        text.append("waiting for the first reading", style="dim")
        return text
    state = status.label.upper() if status.state != NO_SENSOR else "no sensor"
    _row(text, "state", state, STATE_STYLES.get(status.state, "bold green"))
    temps = sorted(status.temperatures, key=lambda t: -t.celsius)
    if not temps:
        _row(text, "temperature", "no sensor", "dim")
    for reading in temps[:SOURCES_SHOWN]:
        mark = " *" if reading.source == status.source else ""
        _row(text, f"{reading.celsius:.1f} °C", f"{reading.source}{mark}")
    if len(temps) > SOURCES_SHOWN:
        _row(text, "", f"+{len(temps) - SOURCES_SHOWN} more sources", "dim")
    frequency = _frequency(status)
    if frequency:
        _row(text, "frequency", frequency, "yellow" if "capped" in frequency else "")
    throttle = ", ".join(status.throttle_reasons) if status.throttled else "no"
    _row(text, "throttled", throttle, "bold red" if status.throttled else "")
    if status.vcgencmd_bits is not None:
        flags = ", ".join(decode(status.vcgencmd_bits)) or "no flags"
        _row(text, "vcgencmd", f"0x{status.vcgencmd_bits:x} ({flags})")
    trend = sparkline(history)
    if trend:
        known = [v for v in history if v is not None]
        _row(text, "trend", f"{trend} {min(known):.0f}–{max(known):.0f} °C")
    text.rstrip()
    return text


def thermal_panel(monitor: ThermalMonitor) -> Panel:
    return Panel(
        thermal_text(monitor.status, list(monitor.history)), title="thermal", title_align="left"
    )


def banner(monitor: ThermalMonitor | None) -> list[Text]:
    """The protection banner while the processor is hot (nothing otherwise)."""
    message = monitor.protection.banner if monitor is not None else None
    return [Text(f" {message} ", style="bold white on red")] if message else []
