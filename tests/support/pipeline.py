"""Run audio through a real pipeline to the end and pick events out of what it emitted."""

from __future__ import annotations

import numpy as np

from voicecli.audio.source import ArraySource
from voicecli.core.bus import EventBus
from voicecli.core.config import Config
from voicecli.pipeline.pipeline import Engines, Pipeline


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
