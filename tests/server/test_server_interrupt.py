"""The server's callers of the one interrupt path: a client's ``interrupt`` message, and
``voicecli connect`` cutting its own playback when told ``audio_stop``. Each cuts playback
(target 100 ms; allowed 500 ms) and ``playback`` cut is emitted exactly once."""

from __future__ import annotations

import asyncio
import time

from support.brains import StoryBrain
from support.server import of, open_client, run
from support.stages import PlayingSink

from voicecli.cli.commands.connect import MessagePrinter

ALLOWED_S = 0.5


def report(record_property, caller: str, seconds: float) -> None:
    ms = round(seconds * 1000, 1)
    record_property(f"interrupt_ms_{caller}", ms)
    print(f"interrupt latency {caller}: {ms} ms")
    assert seconds < ALLOWED_S, f"{caller}: playback stopped after {ms} ms"


def test_a_client_interrupt(start_server, record_property):
    server = start_server(brain=StoryBrain(30, 0.1))

    async def scenario():
        client = await open_client(server)
        await client.send_text("tell me a story")
        before = await client.until("audio", timeout=30)
        asked = time.monotonic()
        await client.send_json({"type": "interrupt"})
        after = await client.until("audio_stop", timeout=10)
        stopped = time.monotonic() - asked
        after += await client.until("turn_metrics", timeout=10)
        await asyncio.sleep(0.3)
        await client.send_text("what is two plus two")
        after += await client.until("turn_metrics", timeout=30)
        await client.close()
        return before, after, stopped

    before, after, stopped = run(scenario())
    report(record_property, "server_interrupt", stopped)
    messages = before + after
    assert len(of(messages, "playback", state="cut")) == 1
    assert of(messages, "playback", turn=1, state="cut")
    assert not of(messages, "playback", turn=1, state="stopped")
    kinds = [m["type"] for m in after]
    stop, metrics = kinds.index("audio_stop"), kinds.index("turn_metrics")
    assert "audio" not in kinds[stop:metrics]  # none of the cut reply's audio after audio_stop
    assert of(messages, "playback", turn=2, state="stopped")  # the next reply played out


def test_connect_cuts_its_playback_at_audio_stop(start_server, capsys, record_property):
    """``connect``'s printer plays the server's audio on a real-time sink; ``audio_stop``
    cuts it through the playback line, and the one ``cut`` it prints is the server's."""
    server = start_server(brain=StoryBrain(30, 0.1))
    sink = PlayingSink(rate=16000)
    printer = MessagePrinter(json_=True, sink=sink, speaker=True)
    seen: dict[str, float] = {}

    async def scenario():
        client = await open_client(server)
        await client.send_text("tell me a story")
        while True:
            message = await client.receive(30)
            printer(message)
            if message["type"] == "audio" and sink.heard_s > 1.0:
                break
        await client.send_json({"type": "interrupt"})
        while True:
            message = await client.receive(10)
            if message["type"] == "audio_stop":
                seen["audio_stop"] = time.monotonic()
            printer(message)
            if message["type"] == "turn_metrics":
                break
        await client.close()

    run(scenario())
    lines = capsys.readouterr().out.splitlines()
    cuts = [line for line in lines if '"playback"' in line and '"cut"' in line]
    assert len(cuts) == 1, cuts
    assert sink.silent_at is not None and not sink.playing
    report(record_property, "connect_audio_stop", sink.silent_at - seen["audio_stop"])
