"""Shared fixtures: real models loaded once per test session, and a pipeline runner."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from voicecli.audio.source import ArraySource
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.core.lifecycle import alive_threads
from voicecli.pipeline.pipeline import Engines, Pipeline

# A shell starts a background job (`pytest &`, `nohup pytest &`) with SIGINT ignored, and an
# ignored signal stays ignored in every program it starts: the Ctrl-C tests would then wait for
# an exit that never comes. Give this process (and so its children) the usual Ctrl-C.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SHARED_AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "audio"
if not SHARED_AUDIO.is_dir():  # CI keeps ../shared beside the clone
    SHARED_AUDIO = Path(os.environ.get("VOICECLI_SHARED_AUDIO", "/work/shared/audio"))


@pytest.fixture(scope="session")
def engines() -> Engines:
    return Engines.load(Config())


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    if not SHARED_AUDIO.is_dir():
        pytest.fail(f"the shared recordings are missing: {SHARED_AUDIO}")
    return SHARED_AUDIO


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Every test must leave no ManagedThread and no extra Python thread running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    leftover = alive_threads()
    assert not leftover, f"managed threads still alive: {leftover}"
    extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not extra, f"threads still alive: {extra}"


def run_pipeline(
    engines: Engines,
    audio: np.ndarray,
    *,
    fast: bool = True,
    config: Config | None = None,
    timeout: float = 120.0,
    **kwargs,
) -> tuple[Pipeline, list]:
    """Run ``audio`` through a real pipeline to the end; returns it and every event."""
    bus = EventBus()
    sub = bus.subscribe(100_000, "test")
    pipeline = Pipeline(
        config=config or Config(),
        engines=engines,
        source=ArraySource(audio, realtime=not fast),
        bus=bus,
        fast=fast,
        system_interval_s=kwargs.pop("system_interval_s", None),
        **kwargs,
    )
    pipeline.start()
    finished = pipeline.wait(timeout)
    assert pipeline.close(), "pipeline threads did not stop"
    assert finished, "pipeline did not finish in time"
    events = []
    while (event := sub.get(timeout=0)) is not None:
        events.append(event)
    return pipeline, events


def of_type(events: list, kind: str, **match) -> list:
    return [
        e for e in events if e.type == kind and all(getattr(e, k) == v for k, v in match.items())
    ]
