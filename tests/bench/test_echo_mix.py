"""``voicecli bench --echo``: the WebRTC canceller's figures on an offline room mix (bench runs
no speaker, so no ``echo`` event exists there), and a clear exit 5 without the module."""

import sys

import numpy as np

from voicecli.bench.echo_mix import Room, measure_room, render_echo, replies
from voicecli.cli.main import app
from voicecli.core.errors import ExitStatus


def test_a_short_tail_room_is_cancelled_and_its_delay_measured():
    spoken = replies()[:1]  # one reply of about 12 s (espeak-ng)
    row = measure_room(Room(60, 0.2, 6.0), spoken)
    assert row["erle_db"] >= 25  # the target on short-tail rooms
    assert row["converged_after_s"] is not None and row["converged_after_s"] <= 2.0
    assert row["event_state"] == ["converged"]
    assert abs(row["event_delay_ms"][0] - 60) <= 2
    assert 0 < row["cpu_percent"] < 25  # target 5 % of a core; 5x margin under load
    louder = Room(60, 0.2, 6.0).echo(spoken[0])
    quieter = Room(60, 0.2, 0.0).echo(spoken[0])
    ratio_db = 20 * np.log10(np.std(louder) / np.std(quieter))
    assert abs(ratio_db - 6.0) < 0.1  # the room's gain is relative to the user's voice


def test_the_table_shows_each_room():
    from io import StringIO

    from rich.console import Console

    row = {
        "room": "60 ms, RT60 0.2 s, +6 dB",
        "erle_db": 48.3,
        "converged_after_s": 0.5,
        "cpu_percent": 3.6,
        "event_delay_ms": [60.0, None],
        "event_state": ["converged", "idle"],
    }
    console = Console(file=StringIO(), width=160)
    render_echo({"rooms": [row]}, console)
    text = console.file.getvalue()
    assert "60 ms, RT60 0.2 s, +6 dB" in text and "48.3" in text and "60, –" in text


def test_without_the_module_bench_echo_exits_5(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "livekit.rtc", None)
    result = cli.invoke(app, ["bench", "--echo"])
    assert result.exit_code == ExitStatus.MODEL_MISSING == 5
    assert "pip install 'livekit>=1.2,<2'" in result.stderr
    assert "Traceback" not in result.output
