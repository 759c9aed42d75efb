"""Thermal protection in a running pipeline: heat a made-up sensor, watch every action happen.

The pipeline is real (tiny.en, the TTS, a language model served over loopback by the test's
small OpenAI-compatible server); only the sensor is made up: a sysfs tree the test rewrites.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import time

import pytest
from support.cli import command, voicecli
from support.fake_llm import Conversation, FakeLlm, llm_config, stream
from support.pipeline import of_type, run_pipeline
from support.thermal_fakes import FakeSysfs

from voicecli.bench.run import RecordingStt
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.synth import compose
from voicecli.thermal.monitor import ThermalMonitor
from voicecli.thermal.protection import ACTIONS, HOT_DASHBOARD_HZ

POLL_S = 0.1
SENTENCES = ("The moon is bright tonight. ", "It is full. ", "Enjoy the view!")


def actions_in_force(chat: Conversation, monitor: ThermalMonitor) -> set[str]:
    """What each owner actually does now, read from the owners (not from the monitor)."""
    pipeline = chat.pipeline
    found = {
        "partials_off": not pipeline.listener.partials_enabled,
        "stt_one_thread": pipeline.stt.engine.thread_limit == 1,
        "first_sentence_only": pipeline.responder.first_sentence_only,
        "llm_paused": chat.brain.llm_paused,
        "light_voice": chat.tts.tts.light,
        "dashboard_slow": monitor.protection.dashboard_hz == HOT_DASHBOARD_HZ,
        "banner": monitor.protection.banner is not None,
    }
    return {name for name, on in found.items() if on}


def wait_until(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.002)
    return check()


def test_heat_and_cool_a_running_pipeline(engines, tmp_path, record_property):
    tree = FakeSysfs(tmp_path)
    sensor = tree.zone(0, "x86_pkg_temp", 60.0)
    config = llm_config(server := FakeLlm())
    config.stt.partials = True
    heat_ms, cool_ms = [], []
    with server:
        monitor = ThermalMonitor(tree.config(interval_s=POLL_S), lambda e: chat.bus.publish(e))
        chat = Conversation(engines, config, thermal=monitor)
        monitor.start()
        try:
            with chat:  # its pipeline is handed the running monitor
                assert chat.pipeline.thermal is monitor
                chat.wait_for("thermal", 5.0, state="normal")
                assert actions_in_force(chat, monitor) == set()
                for _ in range(5):
                    for celsius, target, delays in (
                        (90.0, set(ACTIONS), heat_ms),
                        (79.0, set(), cool_ms),
                    ):
                        time.sleep(random.uniform(0, POLL_S))
                        written = time.monotonic()
                        tree.set(sensor, celsius)
                        event = chat.wait_for("thermal", 5.0, state="hot" if target else "warm")
                        assert wait_until(lambda t=target: actions_in_force(chat, monitor) == t)
                        delays.append(time.monotonic() - written)
                        assert (set(event.actions), event.temp_c) == (target, celsius)
                        chat.events.clear()

                # hot: the LLM stops after its first sentence, and so does the reply
                tree.set(sensor, 91.0)
                chat.wait_for("thermal", 5.0, state="hot")
                server.scripts.append(stream(*SENTENCES, gap=0.4))
                hot_reply = chat.ask("Tell me about the moon.")
                assert hot_reply.text == "The moon is bright tonight."
                assert wait_until(lambda: any(w == "client gone" for _, w in server.log))
                assert "sent 1" not in [w for _, w in server.log]  # no token beyond it
                assert [text for _, text in chat.tts.said] == ["The moon is bright tonight."]

                # cooled: all restored
                tree.set(sensor, 70.0)
                chat.wait_for("thermal", 5.0, state="normal")
                assert actions_in_force(chat, monitor) == set()
                server.scripts.append(stream(*SENTENCES, gap=0.1))
                assert chat.ask("And tomorrow?").text == "".join(SENTENCES).strip()
        finally:
            assert monitor.stop()
    assert engines.stt.thread_limit is None
    heat, cool = statistics.median(heat_ms) * 1000, statistics.median(cool_ms) * 1000
    record_property("heat_to_actions_median_ms", round(heat, 1))
    record_property("cool_to_restored_median_ms", round(cool, 1))
    print(
        f"\nat {POLL_S} s polling: sensor written -> every action in force, median {heat:.0f} ms;"
    )
    print(f"cooled -> all restored, median {cool:.0f} ms (5 times each)")
    assert max(heat_ms + cool_ms) < 5.0


SPOKEN = "Could you please tell me what the weather will be like in Lisbon tomorrow afternoon?"


@pytest.mark.slow
def test_spoken_turns_hot_then_cooled(engines, tmp_path):
    """Real speech in real time: no partials and a one-thread STT while hot; back after."""
    tree = FakeSysfs(tmp_path)
    sensor = tree.zone(0, "cpu-thermal", 92.0)
    monitor = ThermalMonitor(tree.config(interval_s=POLL_S)).start()
    recorder = RecordingStt(engines.stt)
    audio = compose(0.5, SPOKEN, 1.5)
    try:
        assert wait_until(lambda: monitor.protection.active)
        hot, hot_events = run_pipeline(
            Engines(stt=recorder, tts=engines.tts), audio, fast=False, thermal=monitor
        )
        hot_calls = list(recorder.calls)
        tree.set(sensor, 60.0)
        assert wait_until(lambda: not monitor.protection.active)
        recorder.calls.clear()
        _, cool_events = run_pipeline(
            Engines(stt=recorder, tts=engines.tts), audio, fast=False, thermal=monitor
        )
    finally:
        assert monitor.stop()
    assert engines.stt.thread_limit is None
    assert of_type(hot_events, "transcript", final=False) == []  # partials off
    assert hot_calls and {c.result.threads for c in hot_calls} == {1}
    assert len(of_type(hot_events, "transcript", final=True)) == 1
    assert len(of_type(cool_events, "transcript", final=False)) >= 2  # partials are back
    assert {c.result.threads for c in recorder.calls} == {engines.stt.threads}
    hot_ms = [c.result.compute_ms for c in hot_calls]
    print(f"\none-thread STT while hot: {', '.join(f'{ms:.0f}' for ms in hot_ms)} ms per call")
    assert hot.thermal is monitor


def test_a_pipeline_starts_and_stops_the_monitor_it_is_given(engines, tmp_path):
    tree = FakeSysfs(tmp_path)
    tree.zone(0, "x86_pkg_temp", 88.0)
    monitor = ThermalMonitor(tree.config(interval_s=POLL_S))
    audio = compose(0.3, "What time is it?", 1.5)
    _, events = run_pipeline(engines, audio, fast=False, thermal=monitor, system_interval_s=0.2)
    assert not monitor.running  # stopped with the pipeline (the fixture checks its thread)
    assert monitor.polls >= 1 and monitor.status.state == "hot"
    assert not monitor.protection.active  # released when it stopped
    assert engines.stt.thread_limit is None
    systems = of_type(events, "system")
    assert systems and {(e.thermal_state, e.temp_c) for e in systems} == {("hot", 88.0)}


def hot_env(tmp_path, **extra) -> dict:
    tree = FakeSysfs(tmp_path / "sys")
    tree.zone(0, "x86_pkg_temp", 90.0)
    return dict(
        os.environ,
        VOICECLI_CONFIG=str(tmp_path / "none.toml"),
        VOICECLI_SYSFS_ROOT=str(tree.root),
        VOICECLI_THERMAL_VCGENCMD="",
        VOICECLI_THERMAL_INTERVAL_S="0.1",
        **extra,
    )


@pytest.mark.slow
def test_serve_runs_a_monitor_and_stops_it(tmp_path):
    """``voicecli serve`` logs the thermal state and ends cleanly on SIGTERM."""
    process = subprocess.Popen(
        command("serve", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=hot_env(tmp_path),
    )
    try:
        line = process.stderr.readline()
        assert line.startswith("voicecli: thermal: hot at 90 °C (thermal_zone0:x86_pkg_temp)")
        assert "protection on: partials_off, stt_one_thread" in line
        assert "serving on ws://127.0.0.1:" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 143, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_chat_plain_says_the_state_and_the_banner(tmp_path):
    result = voicecli("chat", "--demo", "--fast", "--plain", env=hot_env(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].strip().startswith("thermal: hot at 90 °C (thermal_zone0:x86_pkg_temp)")
    assert lines[1].strip() == "Processor hot (90 °C): short answers until it cools below 80 °C"
    assert "assistant: 12 times 8 is 96." in result.stdout


def test_chat_refuses_thresholds_that_never_release(tmp_path):
    env = hot_env(tmp_path, VOICECLI_THERMAL_RESUME_C="90")
    result = voicecli("chat", "--demo", "--fast", "--plain", env=env, timeout=60)
    assert result.returncode == 2
    assert "thermal.resume_c (90) must be below thermal.hot_c (85)" in result.stderr
    assert "Traceback" not in result.stderr
