"""The Rich dashboard of ``voicecli chat``: conversation, state, level, echo canceller, latency,
system, alerts.

Why this shape: it is one more consumer of the event bus (``apply`` folds events into a
DashboardState); a ManagedThread redraws at most ``REFRESH_HZ`` times a second, and only when
something shown changed, with ``rich.live.Live(auto_refresh=False)`` -- Rich starts no thread of
its own. It uses the alternate screen, so leaving (q, Ctrl-C, SIGTERM, the input ending)
gives the terminal back as it was; the conversation is then printed as plain lines.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from voicecli.cli.controls import Controls
from voicecli.cli.dashboard_state import MUTED, SPEAKING, THINKING, DashboardState
from voicecli.cli.dashboard_thermal import banner, thermal_panel
from voicecli.cli.printer import confirm_label
from voicecli.cli.wake_view import seconds_left, wake_label
from voicecli.core.events import Echo, Event
from voicecli.core.lifecycle import ManagedThread
from voicecli.thermal.monitor import ThermalMonitor

REFRESH_HZ = 10
LEVEL_HZ = 5
METER_CELLS = 24
METER_FLOOR_DB = -60.0
SPARKS = "▁▂▃▄▅▆▇█"
STATE_STYLES = {SPEAKING: "bold magenta", THINKING: "bold yellow", MUTED: "bold red"}
LATENCY_COLUMNS = (
    ("eos_to_transcript_ms", "eos→transcript"),
    ("turn_wait_ms", "turn wait"),
    ("reply_ms", "reply"),
    ("tts_first_audio_ms", "TTS first audio"),
    ("voice_to_voice_ms", "voice-to-voice"),
)
THERMAL_FIELDS = ("temp_c", "thermal_state", "throttled")  # the thermal panel shows these
SYSTEM_FIELDS = {
    "cpu_percent": ("CPU", "{:.0f} %"),
    "cpu_freq_mhz": ("frequency", "{:.0f} MHz"),
    "load_1m": ("load (1 min)", "{:.2f}"),
    "process_cpu_percent": ("voicecli CPU", "{:.0f} %"),
    "rss_mb": ("RSS", "{:.0f} MB"),
    "mem_percent": ("memory", "{:.0f} %"),
    "temp_c": ("temperature", "{:.1f} °C"),
    "thermal_state": ("thermal", "{}"),
    "throttled": ("throttled", "{}"),
}


def decided_by(metrics) -> str:
    """What ended the turn wait: rule, model or both, with the model's P(complete)."""
    if metrics.turn_source is None:
        return "–"
    if metrics.turn_probability is None:
        return metrics.turn_source
    return f"{metrics.turn_source} (p {metrics.turn_probability:.2f})"


def echo_label(event: Echo) -> str:
    """``echo converged, ERLE 42 dB, delay 260 ms`` | ``echo idle`` | ``echo off (why)``."""
    if event.state == "off":
        return f"echo off ({event.reason})" if event.reason else "echo off"
    parts = [f"echo {event.state}"]
    if event.erle_db is not None:
        parts.append(f"ERLE {event.erle_db:.0f} dB")
    if event.delay_ms is not None:
        parts.append(f"delay {event.delay_ms:.0f} ms")
    return ", ".join(parts)


def meter(db: float) -> str:
    filled = round((max(db, METER_FLOOR_DB) - METER_FLOOR_DB) / -METER_FLOOR_DB * METER_CELLS)
    return "█" * filled + "░" * (METER_CELLS - filled)


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values)


class Dashboard:
    def __init__(
        self,
        controls: Controls,
        console: Console | None = None,
        title: str = "",
        monitor: ThermalMonitor | None = None,  # the thermal panel, banner and slow refresh
    ) -> None:
        self.controls = controls
        self.monitor = monitor
        self._drawn_at = 0.0
        self.console = console or Console()
        self.title = title
        self.state = DashboardState()
        self.cpu_s = 0.0  # CPU time the refresh thread spent drawing
        self.frames = 0
        self._drawn = None
        self._level_drawn = -1
        self._typing: str | None = None

    # -- event consumer --------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        self.state.apply(event)

    # -- drawing ---------------------------------------------------------------------------
    def render(self) -> Group:
        with self.state.lock:
            return Group(
                self._header(),
                *self._echo(),
                *banner(self.monitor),
                self._conversation(),
                self._numbers(),
                *self._alerts(),
                self._footer(),
            )

    def _header(self) -> Text:
        s = self.state
        text = Text(" voicecli ", style="bold reverse")
        text.append(f" {s.state.upper()} ", style=STATE_STYLES.get(s.state, "bold green"))
        if s.wake is not None:
            text.append(f" {wake_label(s.wake)} ", style="bold")
        text.append(f"  level {meter(s.level_db)} {s.level_db:5.0f} dB")
        if s.barge_ins:
            text.append(f"  barge-ins {s.barge_ins}", style="dim")
        if s.confirm is not None:
            style = "bold yellow" if s.confirm.state == "asked" else "dim"
            text.append(f"  {confirm_label(s.confirm)}", style=style)
        if self.title:
            text.append(f"  {self.title}", style="dim")
        return text

    def _echo(self) -> list[Text]:
        """The echo line under the header, once the canceller reported (``--echo-cancel``)."""
        echo = self.state.echo
        if echo is None:
            return []
        style = "green" if echo.state == "converged" else "yellow"
        return [Text(f" {echo_label(echo)}", style=style)]

    def _conversation(self) -> Panel:
        lines = Text()
        height = max(4, self.console.size.height - 20)
        for line in list(self.state.conversation)[-height:]:
            style = "cyan" if line.who == "you" else "green"
            lines.append(f"{line.who}: ", style=f"bold {style}")
            lines.append(line.text + "\n", style=style if line.final else f"{style} italic dim")
        return Panel(lines, title="conversation", title_align="left")

    def _numbers(self) -> Group:
        """Latency across the screen; the system panel (and thermal, when monitored) below."""
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(ratio=2)
        cells = [self._system()]
        if self.monitor is not None:
            grid.add_column(ratio=3)
            cells.append(thermal_panel(self.monitor))
        grid.add_row(*cells)
        return Group(self._latency(), grid)

    def _latency(self) -> Panel:
        table = Table(expand=True, box=None, padding=(0, 1))
        table.add_column("turn", justify="right")
        for _name, label in LATENCY_COLUMNS:
            table.add_column(label, justify="right")
        table.add_column("decided by")
        for metrics in self.state.metrics:
            cells = [getattr(metrics, name) for name, _label in LATENCY_COLUMNS]
            row = ("–" if v is None else f"{v:.0f}" for v in cells)
            table.add_row(str(metrics.turn), *row, decided_by(metrics))
        history = list(self.state.history)
        caption = f"voice-to-voice {sparkline(history)}" if history else "no turn yet"
        if history:
            caption += f"  last {history[-1]:.0f} ms"
        return Panel(Group(table, Text(caption, style="dim")), title="latency (ms)")

    def _system(self) -> Panel:
        stats = self.state.system
        text = Text()
        if stats is None:
            text.append("waiting for the first sample", style="dim")
        else:
            for name, (label, fmt) in SYSTEM_FIELDS.items():
                if self.monitor is not None and name in THERMAL_FIELDS:
                    continue
                value = getattr(stats, name, None)
                if value is not None:
                    text.append(f"{label:>13} ", style="dim")
                    text.append(fmt.format(value) + "\n")
        return Panel(text, title="system", title_align="left")

    def _alerts(self) -> list[Panel]:
        if not self.state.alerts:
            return []
        text = Text()
        for kind, message in self.state.alerts:
            text.append(f"{kind}: {message}\n", style="red" if kind == "error" else "yellow")
        return [Panel(text, title="warnings", title_align="left")]

    def _footer(self) -> Text:
        typing = self.controls.typing
        if typing is not None:
            return Text(f" type> {typing}▌  (Enter sends, Esc cancels)", style="bold")
        return Text(f" {self.controls.help}", style="dim")

    # -- running ---------------------------------------------------------------------------
    def _dirty(self) -> bool:
        """Something shown changed: the words, numbers or typing at once (up to REFRESH_HZ),
        the level meter alone at most LEVEL_HZ (it moves all the time: half the cost)."""
        polls = self.monitor.polls if self.monitor is not None else 0
        wake = self.state.wake
        countdown = seconds_left(wake) if wake is not None else None  # redrawn each second
        key = (self.state.version, self.controls.typing, polls, countdown)
        level_due = (
            self.state.level_version != self._level_drawn
            and time.monotonic() - self._drawn_at >= 1 / LEVEL_HZ
        )
        if key == self._drawn and not level_due:
            return False
        self._drawn, self._level_drawn = key, self.state.level_version
        return True

    def _too_soon(self) -> bool:
        """Thermal protection slows the redraws down to ``dashboard_hz``."""
        hz = self.monitor.protection.dashboard_hz if self.monitor is not None else None
        return hz is not None and time.monotonic() - self._drawn_at < 1 / hz

    def _refresh(self, thread: ManagedThread, live) -> None:
        while not thread.wait(1 / REFRESH_HZ):
            if not self._too_soon() and self._dirty():
                started = time.thread_time()
                live.update(self.render(), refresh=True)
                self.cpu_s += time.thread_time() - started
                self.frames += 1
                self._drawn_at = time.monotonic()

    @contextlib.contextmanager
    def shown(self) -> Iterator[Dashboard]:
        """Draw while inside; the terminal is restored on the way out, whatever happened."""
        from rich.live import Live

        live = Live(
            self.render(),
            console=self.console,
            auto_refresh=False,
            screen=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        with live:
            thread = ManagedThread("dashboard", self._refresh, live).start()
            try:
                yield self
            finally:
                thread.stop_and_join()
