"""Sessions over real sockets: resume with history, expiry, separate histories, takeover and
the live-connection limit."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from support.server import (
    ANSWER,
    converse,
    final_replies,
    of,
    open_client,
    run,
)

from voicecli.server.client import ServerClosed
from voicecli.server.protocol import Close


def test_a_session_resumed_within_the_ttl_keeps_its_history(server, question_pcm):
    async def scenario():
        first = await open_client(server)
        turn = await converse(first, question_pcm, speed=3.0)
        await first.close()
        await asyncio.sleep(0.3)
        again = await open_client(server, session_id=first.session_id)
        recall = await converse(again, texts=("what did I just ask?",))
        await again.close()
        return first, turn, again, recall

    first, turn, again, recall = run(scenario())
    assert final_replies(turn) == [ANSWER]
    assert again.ready["resumed"] is True
    assert again.session_id == first.session_id
    assert again.ready["history_turns"] >= 1
    assert final_replies(recall) == ["You asked: What is 12 times 8?"]
    assert of(recall, "transcript")[0]["turn"] == 2


def test_after_the_ttl_the_id_gets_a_fresh_session(start_server):
    server = start_server(session_ttl_s=0.4)

    async def scenario():
        first = await open_client(server)
        await converse(first, texts=("what is two plus two",))
        await first.close()
        await asyncio.sleep(1.5)
        later = await open_client(server, session_id=first.session_id)
        recall = await converse(later, texts=("what did I just ask?",))
        await later.close()
        return first, later, recall

    first, later, recall = run(scenario())
    assert later.ready["resumed"] is False
    assert later.ready["history_turns"] == 0
    assert later.session_id != first.session_id
    assert uuid.UUID(later.session_id).version == 4
    assert final_replies(recall) == ["You haven't asked me anything yet."]


def test_an_unknown_id_gets_a_fresh_uuid4(server):
    async def scenario():
        client = await open_client(server, session_id="not-a-session-we-know")
        await client.close()
        return client

    client = run(scenario())
    assert client.ready["resumed"] is False
    assert uuid.UUID(client.session_id).version == 4


def test_two_concurrent_sessions_keep_separate_histories(server):
    async def talk(question: str):
        client = await open_client(server)
        first = await converse(client, texts=(question,))
        recall = await converse(client, texts=("what did I just ask?",))
        await client.close()
        return final_replies(first) + final_replies(recall)

    async def scenario():
        return await asyncio.gather(talk("what is two plus two"), talk("what is six times seven"))

    alice, bob = run(scenario())
    assert alice == ["2 plus 2 is 4.", "You asked: what is two plus two"]
    assert bob == ["6 times 7 is 42.", "You asked: what is six times seven"]


def test_a_second_connection_with_the_same_id_takes_over_and_the_old_gets_4409(server):
    async def scenario():
        old = await open_client(server)
        await converse(old, texts=("what is nine minus four",))
        new = await open_client(server, session_id=old.session_id)
        with pytest.raises(ServerClosed) as closed:
            await old.receive(timeout=5)
        recall = await converse(new, texts=("what did I just ask?",))
        await new.close()
        return new, closed.value, recall

    new, closed, recall = run(scenario())
    assert closed.code == Close.TAKEN_OVER
    assert new.ready["resumed"] is True and new.ready["history_turns"] == 1
    assert final_replies(recall) == ["You asked: what is nine minus four"]


@pytest.mark.slow
def test_twenty_clients_each_complete_a_turn_and_a_21st_is_told_1013(start_server, question_pcm):
    server = start_server(max_sessions=20)

    async def typed(client, number):
        return await converse(client, texts=(f"what is {number} plus {number}",), timeout=90)

    async def scenario():
        clients = await asyncio.gather(*(open_client(server) for _ in range(20)))
        with pytest.raises(ServerClosed) as full:
            await open_client(server)
        started = time.monotonic()
        results = await asyncio.gather(
            converse(clients[0], question_pcm, speed=1.0, timeout=90),
            *(typed(client, n) for n, client in enumerate(clients[1:], start=1)),
        )
        elapsed = time.monotonic() - started
        await asyncio.gather(*(c.close() for c in clients))
        await asyncio.sleep(0.3)
        late = await open_client(server)  # room again once they left
        await late.close()
        return full.value, results, elapsed

    full, results, elapsed = run(scenario(), timeout=240)
    assert full.code == Close.SERVER_FULL
    assert final_replies(results[0]) == [ANSWER]
    for number, messages in enumerate(results[1:], start=1):
        assert final_replies(messages) == [f"{number} plus {number} is {number * 2}."]
        assert of(messages, "audio")
    print(f"20 sessions, one turn each: {elapsed:.2f} s")
