"""The server with a language model: one brain for every session (built by make_brain), each
session's own history in its requests, and interrupt stopping the model's stream. The model
is the streaming OpenAI-compatible fake server of test_llm_openai, on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.fake_llm import FakeLlm, stream
from support.server import converse, final_replies, index_of, of, open_client, run

from voicecli.core.config import load_config
from voicecli.reply.llm import make_brain
from voicecli.server.app import ServerOptions, VoiceServer

pytestmark = pytest.mark.llm


def llm_server(engines, llm: FakeLlm) -> tuple[VoiceServer, object]:
    flags = {"llm.backend": "openai", "llm.url": llm.url}
    config = load_config(flags, env={}, path=Path("/nonexistent/voicecli.toml")).config
    brain = make_brain(config)
    return VoiceServer(ServerOptions(port=0), engines, config, brain).start(), brain


def user_turns(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


def test_sessions_share_the_model_but_each_sends_only_its_own_history(engines):
    with FakeLlm() as llm:
        server, brain = llm_server(engines, llm)
        try:

            async def talk(topic: str):
                client = await open_client(server)
                first = await converse(client, texts=(f"tell me about {topic}",))
                second = await converse(client, texts=("and its food?",))
                await client.close()
                return final_replies(first) + final_replies(second)

            async def scenario():
                return await asyncio.gather(talk("Paris"), talk("Rome"))

            replies = run(scenario())
        finally:
            server.stop()
            brain.close()
    assert replies == [["Hello there."] * 2] * 2  # the fake model's default answer
    follow_ups = [user_turns(r) for r in llm.requests if user_turns(r)[-1] == "and its food?"]
    assert sorted(follow_ups) == [
        ["tell me about Paris", "and its food?"],
        ["tell me about Rome", "and its food?"],
    ]


def test_interrupt_stops_the_models_stream(engines):
    with FakeLlm() as llm:
        sentences = [f"Sentence {n} of a long answer. " for n in range(1, 31)]
        llm.scripts.append(stream(*sentences, gap=0.2))
        server, brain = llm_server(engines, llm)
        try:

            async def scenario():
                client = await open_client(server)
                await client.send_text("tell me everything")
                await client.until("audio", timeout=30)
                await client.send_json({"type": "interrupt"})
                cut = await client.until("turn_metrics", timeout=10)
                await client.close()
                return cut

            cut = run(scenario())
        finally:
            server.stop()
            brain.close()
        assert "client gone" in [what for _, what in llm.log]  # the HTTP stream was closed
    assert index_of(cut, "audio_stop") < index_of(cut, "turn_metrics")
    assert of(cut, "playback", state="cut")
    assert "Sentence 30" not in final_replies(cut)[0]
