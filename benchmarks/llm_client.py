"""The OpenAI-compatible LLM client against the loopback test server, both kinds of stream.

    python benchmarks/llm_client.py [--requests 30]

For an HTTP/1.1 chunked server and an HTTP/1.0 close-delimited one (tests/support/fake_llm.py):
the time from the request to the first text delta of an immediate answer, and the time an
interrupt takes to wake a read blocked mid-answer (the server silent for 5 s), as medians and
maxima. To measure another checkout's client, run it with ``PYTHONPATH=that/checkout``; a client
that fails on a kind of server is reported as failing, not measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.fake_llm import FakeLlm, stream  # noqa: E402

import voicecli  # noqa: E402
from voicecli.core.lifecycle import ManagedThread  # noqa: E402
from voicecli.reply.brain import ReplyControl, ReplyFailed  # noqa: E402
from voicecli.reply.llm.openai_compat import OpenAICompatBackend  # noqa: E402

QUESTION = [{"role": "user", "content": "Hello?"}]


def first_delta_s(client: OpenAICompatBackend) -> float:
    started = time.monotonic()
    deltas = client.stream(QUESTION, ReplyControl())
    next(deltas)
    took = time.monotonic() - started
    deltas.close()
    return took


def interrupt_wake_s(client: OpenAICompatBackend) -> float:
    control, first, ended = ReplyControl(), threading.Event(), []

    def read(_thread: ManagedThread) -> None:
        for _delta in client.stream(QUESTION, control):
            first.set()
        ended.append(time.monotonic())

    reader = ManagedThread("bench-llm-reader", read).start()
    first.wait(5)
    time.sleep(0.1)  # blocked in a read now
    cut = time.monotonic()
    control.cancel()
    reader.join(10)
    return ended[0] - cut


def measure(http10: bool, requests: int) -> str:
    with FakeLlm(http10=http10) as server:
        client = OpenAICompatBackend(server.url, model="fake")
        try:
            server.scripts += [stream("Hi.") for _ in range(requests)]
            firsts = [first_delta_s(client) for _ in range(requests)]
            server.scripts += [stream("One. ", "Two.", gap=5.0, keep_alive=False)] * requests
            wakes = [interrupt_wake_s(client) for _ in range(requests)]
        except (ReplyFailed, AttributeError, StopIteration) as exc:
            return f"fails: {exc!r}"
        finally:
            client.close()

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"

    return f"first delta {ms(firsts)}; interrupt wake-up {ms(wakes)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    print(voicecli.__file__)
    for name, http10 in (("HTTP/1.1 chunked", False), ("HTTP/1.0 close-delimited", True)):
        print(f"  {name}: {measure(http10, args.requests)}")


if __name__ == "__main__":
    main()
