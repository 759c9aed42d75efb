"""The embedded model: a GGUF file run in-process by llama.cpp through xllamacpp.

Why these settings: on a 2-core machine the model must leave a core to speech recognition,
so it gets cores - 1 threads that sleep instead of spinning (OMP_WAIT_POLICY=PASSIVE, poll 0);
busy-waiting threads were measured to starve STT. llama.cpp's own log is silenced
(verbosity -1): nothing reaches stdout or stderr. xllamacpp also opens an HTTP port on
127.0.0.1; a random API key makes it useless to anyone else.

Why a thread per reply: ``handle_chat_completions`` blocks until the answer is complete and
calls back once per token; a ManagedThread runs it and hands the chunks to the reply's
generator through a queue, and returning True from the callback stops generation. While
llama.cpp evaluates the prompt there is no callback, so a thread stopped then (a first-token
timeout) ends only after the prompt: the reply does not wait for it beyond LET_GO_S, and
``close()`` joins every thread still running.
"""

from __future__ import annotations

import os
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from voicecli.core.errors import ModelMissingError
from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.brain import ReplyControl
from voicecli.reply.llm.backend import LlmBackend, Messages, failure

N_CTX = 2048  # tokens: the system prompt, a few exchanges and a short answer
LET_GO_S = 1.0  # a reply waits this long for its generation thread to end
CLOSE_S = 30.0  # close() waits this long: a thread may be evaluating a long prompt
# llama.cpp's repetition penalty: without it SmolLM2 loops ("I love to play games, and I love
# to play. I love to play games, ...") until max_tokens; 1.1 was measured to stop that.
REPEAT_PENALTY = 1.1
_END = object()
_CANCELLED = object()


def default_threads() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def _load_xllamacpp():
    # Read by libgomp when it is first loaded: set before the import (a no-op if the user
    # chose a policy, or if another library already loaded libgomp).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import xllamacpp
    except ImportError:
        raise ModelMissingError(
            "the embedded LLM needs the xllamacpp package",
            hint="install it with: pip install 'voicecli[llm]'",
        ) from None
    return xllamacpp


def _chunk_error(chunk: dict) -> str | None:
    """llama.cpp reports a failed request as {"error": {...}} or {"code", "message"}."""
    error = chunk.get("error")
    if error:
        return str(error.get("message") if isinstance(error, dict) else error)
    if "code" in chunk and "message" in chunk:
        return str(chunk["message"])
    return None


class EmbeddedBackend(LlmBackend):
    name = "local"

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 0,
        first_token_timeout_s: float = 10.0,
        temperature: float = 0.3,
        max_tokens: int = 120,
        n_ctx: int = N_CTX,
        system_prompt: str = "",
    ) -> None:
        xllamacpp = _load_xllamacpp()
        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = n_ctx
        params.n_parallel = 1
        # Reuse cached chunks of the previous prompt by shifting them (>= 64 tokens): when the
        # oldest exchange leaves the history, the rest is not evaluated again (measured: 17
        # new prompt tokens per turn instead of ~270, 0.5 s instead of 6-8 s on a busy CPU).
        params.n_cache_reuse = 64
        self.threads = threads or default_threads()
        for cpu in (params.cpuparams, params.cpuparams_batch):
            cpu.n_threads = self.threads
            cpu.poll = 0  # no busy-waiting between tokens
        params.n_threads_http = 1
        params.verbosity = -1
        params.api_keys = [secrets.token_urlsafe(24)]
        try:
            self._server = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as exc:
            raise ModelMissingError(f"cannot load the LLM {model_path}: {exc}") from None
        self.model_path = model_path
        self.first_token_timeout_s = first_token_timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._workers: set[ManagedThread] = set()
        self._lock = threading.Lock()
        if system_prompt:
            self._warm(system_prompt)

    def _warm(self, system_prompt: str) -> None:
        """Evaluate the system prompt now: llama.cpp keeps it cached, so the first question
        costs only its own tokens (measured: first token 0.76 s cold, 0.17 s warm)."""
        messages = [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": "Hello."},
        ]
        self._server.handle_chat_completions({"messages": messages, "max_tokens": 1})

    def stream(self, messages: Messages, control: ReplyControl) -> Iterator[str]:
        request = {
            "messages": messages,
            "stream": True,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "repeat_penalty": REPEAT_PENALTY,
        }
        chunks: queue.Queue = queue.Queue()
        ended = threading.Event()
        worker = ManagedThread("llm-local", self._generate, request, chunks, ended)
        control.on_cancel(lambda: chunks.put(_CANCELLED))
        with self._lock:
            if self._server is None:
                raise failure("llm_failed", "the embedded model was closed")
            self._workers = {w for w in self._workers if w.is_alive()}
            self._workers.add(worker)
        worker.start()
        try:
            yield from self._texts(chunks, control)
        finally:
            worker.stop()
            if ended.wait(LET_GO_S):
                worker.join()

    def _generate(
        self, thread: ManagedThread, request: dict, chunks: queue.Queue, ended: threading.Event
    ) -> None:
        def on_chunk(chunk: dict) -> bool:
            if thread.should_stop():
                return True  # stops generation
            chunks.put(chunk)
            return False

        try:
            self._server.handle_chat_completions(request, on_chunk)
        except Exception as exc:  # a request llama.cpp refuses (e.g. longer than the context)
            chunks.put(exc)
        finally:
            chunks.put(_END)
            ended.set()

    def _texts(self, chunks: queue.Queue, control: ReplyControl) -> Iterator[str]:
        started = False
        deadline = time.monotonic() + self.first_token_timeout_s
        while True:
            wait = self.first_token_timeout_s if started else deadline - time.monotonic()
            try:
                item = chunks.get(timeout=max(wait, 0.0))
            except queue.Empty:
                what = "stalled" if started else "gave no first token"
                message = f"the embedded model {what} within {self.first_token_timeout_s} s"
                raise failure("llm_timeout", message) from None
            if item is _CANCELLED or item is _END or control.cancelled:
                return
            if isinstance(item, Exception):
                raise failure("llm_failed", f"the embedded model failed: {item}")
            error = _chunk_error(item)
            if error:
                raise failure("llm_failed", f"the embedded model failed: {error}")
            content = ((item.get("choices") or [{}])[0].get("delta") or {}).get("content")
            if content:
                if not started:
                    started = True
                    control.first_token()
                yield content

    def close(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers), set()
            server, self._server = self._server, None
        for worker in workers:
            worker.stop_and_join(CLOSE_S)
        del server  # the last reference: llama.cpp stops its loop and frees the model
