"""``voicecli bench --thermal``: a real-time run next to a made-up sensor that heats up, the
report (validated against the schema in docs/thermal.md), the CSV, the load helpers."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import jsonschema
import psutil
import pytest
from support.thermal_fakes import FakeSysfs

from voicecli.bench.thermal import Sample, TurnSample, parse_duration
from voicecli.bench.thermal_load import LoadHelpers
from voicecli.bench.thermal_report import drift, pearson, state_times
from voicecli.cli.main import app
from voicecli.core.errors import UsageError
from voicecli.core.lifecycle import ManagedThread, alive_threads

DOCS = Path(__file__).resolve().parents[2] / "docs" / "thermal.md"


@cache
def report_schema() -> dict:
    section = DOCS.read_text(encoding="utf-8").split("### Report schema", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


@pytest.fixture
def sysfs_env(tmp_path, monkeypatch):
    def point_at(root: Path, interval_s: float = 0.1) -> None:
        monkeypatch.setenv("VOICECLI_CONFIG", str(tmp_path / "none.toml"))
        monkeypatch.setenv("VOICECLI_SYSFS_ROOT", str(root))
        monkeypatch.setenv("VOICECLI_THERMAL_VCGENCMD", "")
        monkeypatch.setenv("VOICECLI_THERMAL_INTERVAL_S", str(interval_s))

    return point_at


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


# -- the numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("20s", 20), ("2m", 120), ("10m", 600), ("1.5m", 90), ("45", 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-2m", "ten minutes", "5x", "2 m s"])
def test_bad_durations(text):
    with pytest.raises(UsageError, match="--duration"):
        parse_duration(text)


def turn(t_s: float, v2v: float | None, temp: float | None = None) -> TurnSample:
    latencies = {"voice_to_voice_ms": v2v, "eos_to_transcript_ms": v2v, "stt_compute_ms": None}
    return TurnSample(t_s, "f", 0, "x", latencies, temp, "normal", False)


def test_pearson_drift_and_state_times():
    assert pearson([60, 70, 80, 90], [500, 600, 700, 800]) == (1.0, 4)
    assert pearson([60, 70, 80, 90], [800, 700, 600, 500]) == (-1.0, 4)
    assert pearson([None, None, None], [1, 2, 3]) == (None, 0)  # no sensor: no correlation
    assert pearson([60, 60, 60], [1, 2, 3]) == (None, 3)  # no spread
    # p50 rising 100 ms per 10 s window = +600 ms per minute
    turns = [turn(t, 500 + 10 * (t // 10) * 10) for t in range(0, 60, 2)]
    result = drift(turns, 60.0)
    assert result["window_s"] == 10.0 and len(result["windows"]) == 6
    assert result["slope_ms_per_min"]["voice_to_voice_ms"] == pytest.approx(600.0)
    assert result["slope_ms_per_min"]["stt_compute_ms"] is None
    samples = [
        Sample(t, None, None, state, False, [], None, None)
        for t, state in ((0.0, "normal"), (4.0, "warm"), (6.0, "hot"), (9.0, "warm"))
    ]
    assert state_times(samples, 10.0) == {"no_sensor": 0, "normal": 4, "warm": 3, "hot": 3}


# -- load helpers ------------------------------------------------------------------------------


def test_load_helpers_burn_and_are_gone_after(record_property):
    before = children()
    with LoadHelpers(2) as helpers:
        assert set(helpers.pids) <= children() - before and len(helpers.pids) == 2
        time.sleep(1.5)
        busy = [sum(psutil.Process(pid).cpu_times()[:2]) for pid in helpers.pids]
        assert helpers.alive() == 2
    assert helpers.alive() == 0
    assert children() == before
    assert not any(psutil.pid_exists(pid) and _not_zombie(pid) for pid in helpers.pids)
    record_property("helper_cpu_s_in_1_5_s", busy)
    # each spins: ~1.5 s of CPU on an idle machine; far less on a busy shared one, but far
    # more than a sleeping process's start-up (~0.05 s)
    assert min(busy) > 0.25, busy


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_load_helpers_die_with_a_killed_bench():
    """A bench killed with SIGKILL cannot clean up: the kernel kills its helpers."""
    code = (
        "import sys, time; from voicecli.bench.thermal_load import LoadHelpers; "
        "h = LoadHelpers(2).start(); print(*h.pids, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_not_zombie(pid) for pid in pids)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    deadline = time.monotonic() + 5.0
    while any(_not_zombie(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_not_zombie(pid) for pid in pids)


# -- the command -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--thermal", "--duration", "5x"], "--duration '5x'"),
        (["--thermal", "--load", "-1"], "--load -1"),
        (["--duration", "20s"], "go with --thermal"),
        (["--load", "2"], "go with --thermal"),
        (["--thermal", "--repeat", "2"], "do not go with --thermal"),
        (["--thermal", "--baseline"], "do not go with --thermal"),
    ],
)
def test_bad_options_are_usage_errors(cli, args, message):
    result = cli.invoke(app, ["bench", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def heat_up(path: Path, start: float, end: float, seconds: float):
    """A ManagedThread that, once the bench's monitor runs, rewrites ``path`` from ``start``
    to ``end`` °C over ``seconds``."""

    def run(thread: ManagedThread) -> None:
        while not any(t.name == "thermal" for t in alive_threads()):
            if thread.wait(0.01):
                return
        began = time.monotonic()
        while not thread.wait(0.05):
            done = min(1.0, (time.monotonic() - began) / seconds)
            FakeSysfs.set(path, start + (end - start) * done)

    return ManagedThread("heater", run)


@pytest.mark.slow
def test_a_run_that_heats_through_85(cli, sysfs_env, tmp_path):
    tree = FakeSysfs(tmp_path / "sys")
    sensor = tree.zone(0, "x86_pkg_temp", 70.0)
    tree.cpu(0, 1800.0, 3600.0, 3600.0)
    sysfs_env(tree.root)
    report_path, csv_path = tmp_path / "thermal.json", tmp_path / "thermal.csv"
    before = children()
    heater = heat_up(sensor, 70.0, 95.0, 12.0)
    args = ["bench", "--thermal", "--duration", "20s", "--load", "1", "--no-warmup"]
    with heater:
        result = cli.invoke(app, [*args, "--report", str(report_path), "--csv", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert children() == before  # the load helper is gone
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, report_schema())
    s = report["summary"]
    assert 20 <= s["wall_s"] < 40 and s["turns"] >= 3 and s["pipeline_errors"] == 0
    assert len(report["samples"]) >= 100  # 0.1 s polls for 20 s
    assert [e["state"] for e in s["states"]["entered"]][-1] == "hot"
    assert {"normal", "warm", "hot"} <= {e["state"] for e in s["states"]["entered"]}
    times = s["states"]["time_s"]
    assert times["hot"] > 0 and sum(times.values()) == pytest.approx(s["wall_s"], abs=0.2)
    assert s["protection"]["engaged"] == 1 and s["protection"]["turns"] >= 1
    assert s["temperature_c"]["min"] < 75 and s["temperature_c"]["max"] > 85
    v2v = s["correlation"]["voice_to_voice_ms"]
    assert v2v["n"] == s["turns"] and v2v["r"] is not None and -1 <= v2v["r"] <= 1
    assert s["latency_ms"]["voice_to_voice_ms"]["n"] == s["turns"]
    assert all(t["latencies_ms"]["voice_to_voice_ms"] > 0 for t in report["turns"])
    assert s["load"] == {"helpers": 1, "left_running": 0}
    assert s["monitor"]["polls"] >= 100 and s["monitor"]["cpu_ms_per_poll"] < 5
    assert report["samples"][0]["freq_mhz"] == 1800.0
    for words in ("timeline", "bench --thermal", "time in each state", "states entered", "hot"):
        assert words in result.output
    rows = list(csv.DictReader(csv_path.open()))
    assert {r["kind"] for r in rows} == {"sample", "turn"}
    assert sum(r["kind"] == "turn" for r in rows) == s["turns"]
    print(
        f"\nheating run: {s['turns']} turns, v2v p50 {s['latency_ms']['voice_to_voice_ms']['p50']}"
        f" ms, r {v2v['r']}, hot for {times['hot']} s, monitor "
        f"{s['monitor']['cpu_ms_per_poll']} ms per poll"
    )


@pytest.mark.slow
def test_no_sensor_says_so_and_still_reports_drift(cli, sysfs_env, tmp_path):
    sysfs_env(FakeSysfs(tmp_path / "empty").root, interval_s=1.0)
    report_path = tmp_path / "thermal.json"
    args = ["bench", "--thermal", "--duration", "12s", "--no-warmup", "--limit", "2"]
    result = cli.invoke(app, [*args, "--report", str(report_path)])
    assert result.exit_code == 0, result.output
    assert "thermal: no sensor" in result.output
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, report_schema())
    s = report["summary"]
    assert s["sensor_label"] == "no sensor" and s["temperature_c"] is None
    assert s["correlation"]["voice_to_voice_ms"]["r"] is None
    assert s["states"]["time_s"]["no_sensor"] == pytest.approx(s["wall_s"], abs=1.1)
    assert len(s["drift"]["windows"]) == 2 and s["turns"] >= 2
    assert s["drift"]["slope_ms_per_min"]["voice_to_voice_ms"] is not None
    assert all(sample["temp_c"] is None for sample in report["samples"])
