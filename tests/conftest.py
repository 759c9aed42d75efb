"""Fixtures several test folders share: the real models loaded once per session, the shared
recordings, the command line run in-process (``cli``), the private PulseAudio daemon of the
live tests, and the check that no thread outlives a test. Helpers live in ``support/``;
fixtures only one folder shares, in that folder's conftest.py."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from support.pulse import PulseDaemon, session_daemon
from typer.testing import CliRunner

from voicecli.core.config import Config, TtsConfig
from voicecli.core.lifecycle import alive_threads
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.tts import TextToSpeech

# A shell starts a background job (`pytest &`, `nohup pytest &`) with SIGINT ignored, and an
# ignored signal stays ignored in every program it starts: the Ctrl-C tests would then wait for
# an exit that never comes. Give this process (and so its children) the usual Ctrl-C.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

LIVE_RERUNS = 1  # a real-time test on the virtual devices runs at most twice

# The shared recordings sit beside the clone (../shared/audio); VOICECLI_SHARED_AUDIO overrides.
SHARED_AUDIO = Path(
    os.environ.get("VOICECLI_SHARED_AUDIO")
    or Path(__file__).resolve().parents[2] / "shared" / "audio"
)


@pytest.fixture(scope="session")
def engines() -> Engines:
    """tiny.en, VAD and espeak-ng (tests not about Piper keep the light voice)."""
    config = Config()
    config.tts.voice = "gmw/en-us"
    return Engines.load(config)


@pytest.fixture(scope="session")
def piper_tts() -> TextToSpeech:
    """The Piper voice (joe), without noise: the same samples on every run. At the tests'
    own priority (nice 0): on a loaded machine a niced Piper waits behind every other process
    (the niced path has its own test)."""
    tts = TextToSpeech(TtsConfig(voice="piper:joe", nice=0), deterministic=True)
    assert tts.engine == "piper", tts.fallback
    return tts


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    if not SHARED_AUDIO.is_dir():
        pytest.fail(f"the shared recordings are missing: {SHARED_AUDIO}")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def cli() -> CliRunner:
    """Invokes ``voicecli.cli.main.app`` in this process: ``cli.invoke(app, [...])``."""
    return CliRunner()


@pytest.fixture(scope="session")
def pulse(request) -> PulseDaemon:
    """Virtual microphone and speaker (support/pulse.py); a test using it is marked ``live``."""
    return session_daemon(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    """Mark every test that needs the PulseAudio daemon ``live``, so ``-m "not live"``
    deselects exactly those even where a module forgot the marker. A live test runs in real
    time beside the other worker: on a loaded two-core machine a full run often has one that
    misses its moment (an echo path that moves, a word misheard), so it runs once more before it
    fails; ``-r R`` lists every rerun, and the notes count them."""
    for item in items:
        if "pulse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)
        if item.get_closest_marker("live"):
            item.add_marker(pytest.mark.flaky(reruns=LIVE_RERUNS, reruns_delay=1))


_reruns: list[str] = []


def pytest_runtest_logreport(report) -> None:
    if report.outcome == "rerun":  # what failed the first time, for the summary below
        crash = getattr(report.longrepr, "reprcrash", None)
        _reruns.append(f"{report.nodeid}: {crash.message if crash else report.longrepr}")


def pytest_terminal_summary(terminalreporter) -> None:
    """Why each live test was run again (``-r R`` says only that it was)."""
    if _reruns:
        terminalreporter.section("why live tests ran again")
        for line in _reruns:
            terminalreporter.write_line(line[:2000])


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Every test must leave no ManagedThread and no extra Python thread running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    leftover = alive_threads()
    assert not leftover, f"managed threads still alive: {leftover}"
    extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not extra, f"threads still alive: {extra}"
