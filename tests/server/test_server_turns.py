"""Turns over the WebSocket: spoken (real-time frames), typed, end -> done, other rates,
interrupt and reset -- a real server on 127.0.0.1 and real websockets clients."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from support.brains import StoryBrain
from support.schema import validate_event
from support.server import (
    ANSWER,
    converse,
    final_replies,
    index_of,
    of,
    open_client,
    pcm_bytes,
    run,
)

from voicecli.audio.file import resample
from voicecli.core.events import from_dict
from voicecli.reply.synth import compose
from voicecli.server.protocol import MAX_AUDIO_CHUNK


def words(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower())


@pytest.mark.slow
def test_a_spoken_turn_streamed_in_real_time_gets_transcript_reply_and_audio_in_order(
    server, question_pcm
):
    async def scenario():
        client = await open_client(server)
        assert client.ready["resumed"] is False
        messages = await converse(client, question_pcm, speed=1.0)
        await client.close()
        return messages

    messages = run(scenario())
    transcript = of(messages, "transcript", final=True)
    assert len(transcript) == 1
    assert "12 times 8" in words(transcript[0]["text"])
    assert final_replies(messages) == [ANSWER]
    audio = of(messages, "audio")
    assert audio, "no reply audio"
    first_reply = index_of(messages, "reply")
    assert index_of(messages, "speech_start") < index_of(messages, "transcript")
    assert index_of(messages, "transcript") < first_reply < messages.index(audio[0])
    assert messages.index(audio[-1]) < index_of(messages, "turn_metrics")
    assert messages[-1]["type"] == "done"
    assert {m["turn"] for m in messages if m.get("turn") is not None} == {1}
    assert all(m["rate"] == 16000 and m["format"] == "s16le" for m in audio)
    seqs = [m["seq"] for m in audio]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(0 < len(m["data"]) <= MAX_AUDIO_CHUNK for m in audio)
    seconds = sum(len(m["data"]) for m in audio) / 2 / 16000
    assert 0.8 < seconds < 5, seconds  # "12 times 8 is 96." spoken
    metrics = of(messages, "turn_metrics")[0]
    assert metrics["voice_to_voice_ms"] is not None
    assert not of(messages, "error")


def test_a_typed_turn_is_answered_with_text_and_audio(server):
    async def scenario():
        client = await open_client(server)
        await client.send_text("what is two plus two")
        messages = await client.until("turn_metrics", timeout=30)
        await client.close()
        return messages

    messages = run(scenario())
    assert of(messages, "transcript", final=True)[0]["text"] == "what is two plus two"
    assert final_replies(messages) == ["2 plus 2 is 4."]
    assert of(messages, "audio")
    assert of(messages, "playback", state="stopped")


def test_end_without_audio_is_answered_done_after_the_pending_replies(server):
    async def scenario():
        client = await open_client(server)
        first = await converse(client, texts=("what is three times three",))
        nothing = await converse(client)  # end with nothing open: done at once
        second = await converse(client, texts=("what did I just ask?",))
        await client.close()
        return first, nothing, second

    first, nothing, second = run(scenario())
    assert final_replies(first) == ["3 times 3 is 9."]
    assert first.index(of(first, "reply", final=True)[0]) < len(first) - 1
    assert [m["type"] for m in nothing] == ["done"]
    assert final_replies(second) == ["You asked: what is three times three"]
    assert of(second, "transcript")[0]["turn"] == 2  # turn numbers go on across `end`s


def test_a_timer_outlives_end_and_fires_on_the_same_connection(server):
    async def scenario():
        client = await open_client(server)
        started = time.monotonic()
        turn = await converse(client, texts=("set a timer for 2 seconds",))
        done_after = time.monotonic() - started
        fired = await client.until("timer", timeout=10)
        while not fired[-1].get("fired"):
            fired += await client.until("timer", timeout=10)
        notice = await client.until("playback", timeout=10)
        while notice[-1]["state"] == "started":
            notice += await client.until("playback", timeout=10)
        await client.close()
        return turn, done_after, fired, notice

    turn, done_after, fired, notice = run(scenario())
    assert final_replies(turn) == ["Timer set for 2 seconds."]
    assert done_after < 1.5  # `end` does not wait for the timer
    assert not any(m.get("cancelled") for m in of(turn, "timer"))
    assert fired[-1]["fired"] is True
    assert of(notice, "audio")  # the notice is spoken to this client
    assert notice[-1]["state"] == "stopped"


@pytest.mark.parametrize("rate", [22050, 48000])
def test_other_client_rates_are_resampled_both_ways(server, rate):
    audio = compose(0.5, "What is twelve times eight?", 1.2)
    pcm = pcm_bytes(resample(audio, 16000, rate))

    async def scenario():
        client = await open_client(server, rate=rate)
        assert client.ready["audio"]["rate"] == rate
        messages = await converse(client, pcm, speed=3.0)
        await client.close()
        return messages

    messages = run(scenario())
    assert "12 times 8" in words(of(messages, "transcript", final=True)[0]["text"])
    audio_messages = of(messages, "audio")
    assert audio_messages and all(m["rate"] == rate for m in audio_messages)
    seconds = sum(len(m["data"]) for m in audio_messages) / 2 / rate
    assert 0.8 < seconds < 5, seconds
    samples = np.frombuffer(b"".join(m["data"] for m in audio_messages), "<i2")
    assert np.abs(samples).max() > 1000  # speech, not silence


def test_reply_audio_comes_at_the_hello_rate_even_at_8_khz(server):
    async def scenario():
        client = await open_client(server, rate=8000)
        messages = await converse(client, texts=("what is two plus two",))
        await client.close()
        return messages

    messages = run(scenario())
    audio = of(messages, "audio")
    assert audio and all(m["rate"] == 8000 for m in audio)
    seconds = sum(len(m["data"]) for m in audio) / 2 / 8000
    assert 0.5 < seconds < 4, seconds


LONG_STORY = StoryBrain(10, 0.3, "This is sentence number {} of a long story. ")


def test_interrupt_cuts_the_reply_and_its_audio_and_says_audio_stop(start_server):
    server = start_server(brain=LONG_STORY)

    async def scenario():
        client = await open_client(server)
        await client.send_text("tell me a story")
        before = await client.until("audio", timeout=30)
        await client.send_json({"type": "interrupt"})
        after = await client.until("turn_metrics", timeout=10)
        messages = await converse(client, texts=("what is two plus two",))
        await client.close()
        return before, after, messages

    before, after, messages = run(scenario())
    stop = index_of(after, "audio_stop")
    assert not of(after[stop:], "audio"), "reply audio after audio_stop"
    assert of(after, "playback", state="cut")
    story = final_replies(after)[0]
    assert story.startswith("This is sentence number 1 of a long story.")
    assert "number 10" not in story  # generation stopped
    assert final_replies(messages) == ["2 plus 2 is 4."]  # the session goes on


def test_speech_while_the_reply_plays_is_a_barge_in(start_server, question_pcm):
    server = start_server(brain=LONG_STORY)

    async def scenario():
        client = await open_client(server)
        await client.send_text("tell me a story")
        await client.until("audio", timeout=30)
        messages = await converse(client, question_pcm, speed=2.0)
        await client.close()
        return messages

    messages = run(scenario())
    stop = index_of(messages, "audio_stop")
    assert index_of(messages, "speech_start") < stop
    assert [m["turn"] for m in of(messages, "playback", state="cut")] == [1]  # exactly once
    assert "number 10" not in final_replies(messages)[0]
    assert final_replies(messages)[1] == ANSWER


def test_reset_forgets_the_history_and_answers_reset_done(server):
    async def scenario():
        client = await open_client(server)
        await converse(client, texts=("what is five plus five",))
        await client.send_json({"type": "reset"})
        reset = await client.until("reset_done", timeout=10)
        after = await converse(client, texts=("what did I just ask?",))
        await client.close()
        return reset, after

    reset, after = run(scenario())
    assert reset[-1] == {"type": "reset_done"}
    assert final_replies(after) == ["You haven't asked me anything yet."]


PROTOCOL_TYPES = {"ready", "audio", "audio_stop", "done", "reset_done"}


def test_every_other_message_is_a_pipeline_event_as_documented(server):
    async def scenario():
        client = await open_client(server)
        raw = []
        await client.send_text("what is one plus one")
        await client.ws.send("{broken")
        await client.end()
        while True:
            message = await client.ws.recv()
            raw.append(message)
            if isinstance(message, str) and json.loads(message)["type"] == "done":
                break
        await client.close()
        return raw

    raw = run(scenario())
    messages = [json.loads(m) for m in raw if isinstance(m, str)]
    binary = [m for m in raw if isinstance(m, bytes)]
    events = [m for m in messages if m["type"] not in PROTOCOL_TYPES]
    assert {"transcript", "reply", "playback", "turn_metrics", "error"} <= {
        e["type"] for e in events
    }
    for event in events:
        validate_event(event)  # the schema in docs/events.md, as for chat --json
        assert from_dict(event).to_dict() == event
    headers = [i for i, m in enumerate(raw) if isinstance(m, str) and '"type": "audio"' in m]
    assert len(headers) == len(binary) > 0
    assert all(isinstance(raw[i + 1], bytes) for i in headers)  # each header, then its frame
