"""The OpenAI-compatible backend against a small streaming server on 127.0.0.1.

The server speaks HTTP/1.1 with chunked server-sent events, like llama.cpp server and Ollama,
or (tests taking ``llm_server``, run once per kind) HTTP/1.0 whose stream ends when the server
closes the connection, like Python's ``http.server``; each request follows the next script
queued by the test (stream, wait, fail, hang up).
Replies go through a real pipeline with the real TTS; a recording TTS notes what was said
and when.
"""

from __future__ import annotations

import itertools
import socket
import time

import pytest

# -- the fake server ---------------------------------------------------------------------------
from support.fake_llm import (
    Conversation,
    FakeLlm,
    hang_up_after,
    http_error,
    llm_config,
    stream,
)

from voicecli.core.config import Config, load_config
from voicecli.core.messages import CLIENT, Interrupt
from voicecli.reply.llm import make_brain
from voicecli.reply.llm.backend import SPOKEN
from voicecli.reply.llm.composite import history_window

pytestmark = pytest.mark.llm


@pytest.fixture(name="llm_server", params=["http11-chunked", "http10-close-delimited"])
def llm_server_fixture(request):
    with FakeLlm(http10=request.param.startswith("http10")) as server:
        yield server


def test_sentences_reach_tts_in_order_while_the_stream_is_still_running(engines, llm_server):
    server = llm_server
    sentences = ["The moon is bright tonight.", "It is full.", "Enjoy the view!"]
    with Conversation(engines, llm_config(server)) as chat:
        server.scripts.append(stream(*[s + " " for s in sentences], gap=0.6))
        reply = chat.ask("Tell me about the moon.")
        metrics = chat.wait_for("turn_metrics", turn=reply.turn)
    said = [text for _, text in chat.tts.said]
    assert said == sentences
    assert reply.text == " ".join(sentences)
    assert [e.text for e in chat.of("reply", final=False)] == sentences
    first_said = chat.tts.said[0][0]
    assert first_said < server.when("sent 1")  # spoken before the second sentence was sent
    assert chat.sink.writes[0] < server.when("done")  # and heard before the stream ended
    assert metrics.first_token_ms is not None and 0 < metrics.first_token_ms < 5000
    assert metrics.reply_ms >= metrics.first_token_ms
    body = server.requests[0]
    assert body["stream"] is True and body["model"] == "fake"
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1] == {"role": "user", "content": "Tell me about the moon."}


def test_a_slow_first_token_is_a_spoken_timeout_and_the_next_turn_works(engines, llm_server):
    server = llm_server
    with Conversation(engines, llm_config(server, first_token_timeout_s=0.5)) as chat:
        server.scripts += [stream("Too late.", first_delay=3.0), stream("Back again.")]
        started = time.monotonic()
        reply = chat.ask("Are you there?")
        waited = time.monotonic() - started
        error = chat.wait_for("error", turn=reply.turn)
        assert reply.text == SPOKEN["llm_timeout"]
        assert error.code == "llm_timeout" and error.fatal is False
        assert 0.5 <= waited < 2.5  # the timeout, not the server's 3 s
        assert chat.ask("Hello?").text == "Back again."
    assert [text for _, text in chat.tts.said] == [SPOKEN["llm_timeout"], "Back again."]


def test_an_http_error_is_explained_and_the_next_turn_works(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        server.scripts += [http_error(500, "model exploded"), stream("Fine now.")]
        reply = chat.ask("What's up?")
        error = chat.wait_for("error", turn=reply.turn)
        assert reply.text == SPOKEN["llm_http_error"]
        assert error.code == "llm_http_error" and not error.fatal
        assert "500" in error.message and "model exploded" in error.message
        assert chat.ask("And now?").text == "Fine now."
        assert not chat.of("error", fatal=True)


def test_a_disconnect_mid_stream_is_explained_and_the_next_turn_works(engines, llm_server):
    server = llm_server
    with Conversation(engines, llm_config(server)) as chat:
        server.scripts += [hang_up_after("First part is fine. ", "Then the"), stream("All good.")]
        reply = chat.ask("Tell me a story.")
        error = chat.wait_for("error", turn=reply.turn)
        assert error.code == "llm_disconnected" and not error.fatal
        said = [text for _, text in chat.tts.said]
        assert said == ["First part is fine.", SPOKEN["llm_disconnected"]]  # no half sentence
        assert chat.ask("Again?").text == "All good."


def test_an_unreachable_server_is_explained(engines):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nobody listens there
    config = Config()
    config.llm.url = f"http://127.0.0.1:{port}/v1"
    with Conversation(engines, config) as chat:
        reply = chat.ask("Hello?")
        error = chat.wait_for("error", turn=reply.turn)
    assert reply.text == SPOKEN["llm_unreachable"] and error.code == "llm_unreachable"


def test_an_interrupt_stops_generation_and_playback_at_once(engines, llm_server):
    server = llm_server
    with Conversation(engines, llm_config(server)) as chat:
        # silent gaps: only the interrupt itself can wake the blocked read
        long_answer = stream("One. ", "Two. ", "Three. ", "Four.", gap=5.0, keep_alive=False)
        server.scripts += [long_answer, stream("Short answer.")]
        turn = chat.pipeline.submit_text("Count slowly.")
        chat.wait_for("playback", turn=turn.number, state="started")
        interrupted_at = time.monotonic()
        assert chat.pipeline.interrupt(Interrupt(CLIENT)) is True
        reply = chat.wait_for("reply", turn=turn.number, final=True, timeout=5)
        ended = time.monotonic() - interrupted_at
        cut = chat.wait_for("playback", turn=turn.number, state="cut")
        deadline = time.monotonic() + 3
        while not any(w == "client gone" for _, w in server.log) and time.monotonic() < deadline:
            time.sleep(0.02)
        gone = server.when("client gone") - interrupted_at
        writes_after = [t for t in chat.sink.writes if t > interrupted_at + 0.05]
        assert chat.pipeline.interrupt(Interrupt(CLIENT)) is False  # nothing left to interrupt
        assert chat.ask("Next?").text == "Short answer."
    print(f"interrupt: reply final after {ended * 1000:.0f} ms, server saw {gone * 1000:.0f} ms")
    assert reply.text == "One." and cut.state == "cut"
    assert not chat.of("playback", turn=turn.number, state="stopped")
    assert ended < 1.0  # the responder let go at once
    assert gone < 1.0  # the server saw the stream closed: generation stopped
    assert not writes_after  # nothing more reached the sink
    assert not chat.of("error", turn=turn.number)


def test_an_arithmetic_question_never_reaches_the_llm(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        assert chat.ask("What is twelve times eight?").text == "12 times 8 is 96."
        assert server.requests == []
        server.scripts.append(stream("It is a nice number."))
        assert chat.ask("Is that a nice number?").text == "It is a nice number."
    messages = server.requests[0]["messages"]
    assert messages[1:] == [  # this conversation's history came along
        {"role": "user", "content": "What is twelve times eight?"},
        {"role": "assistant", "content": "12 times 8 is 96."},
        {"role": "user", "content": "Is that a nice number?"},
    ]


def test_history_is_bounded_and_the_api_key_comes_from_the_environment(engines, tmp_path):
    with FakeLlm() as server:
        loaded = load_config(
            {"llm.url": server.url, "llm.max_history_turns": 1},
            env={"VOICECLI_LLM_API_KEY": "sk-test-123"},
            path=tmp_path / "none.toml",
        )
        with Conversation(engines, loaded.config) as chat:
            for n in range(3):
                server.scripts.append(stream(f"Answer {n}."))
                chat.ask(f"Question {n}?")
    last = server.requests[-1]["messages"]
    assert [m["content"] for m in last[1:]] == ["Question 1?", "Answer 1.", "Question 2?"]
    assert "model" not in server.requests[0]  # none configured: the server's own
    assert all(h.get("Authorization") == "Bearer sk-test-123" for h in server.headers_seen)


def test_markdown_from_the_llm_is_shown_as_written_and_spoken_sensibly(engines):
    with FakeLlm() as server, Conversation(engines, llm_config(server)) as chat:
        server.scripts.append(stream("**Paris** is lovely 😀. ", "See https://www.paris.fr/en."))
        reply = chat.ask("Tell me about Paris.")
    assert reply.text == "**Paris** is lovely 😀. See https://www.paris.fr/en."
    assert [text for _, text in chat.tts.said] == ["Paris is lovely.", "See paris.fr."]


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "localhost:11434", "http://:80/v1"])
def test_a_bad_url_is_a_usage_error(url):
    from voicecli.core.errors import UsageError

    config = Config()
    config.llm.url = url
    with pytest.raises(UsageError, match="not an http"):
        make_brain(config)


def test_the_history_window_is_bounded_and_mostly_appends():
    windows = [history_window(list(range(n)), 6) for n in range(20)]
    assert all(len(w) <= 6 for w in windows) and windows[6] == list(range(6))
    assert all(w[-1] == n - 1 for n, w in enumerate(windows) if n)  # always the latest
    appends = [len(a) <= len(b) and b[: len(a)] == a for a, b in itertools.pairwise(windows)]
    assert appends.count(False) <= len(appends) // 3  # the prompt's start rarely changes
