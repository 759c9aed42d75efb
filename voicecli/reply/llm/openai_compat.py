"""Any OpenAI-compatible chat server (Ollama, llama.cpp server, LM Studio, vLLM, ...).

Why httpx and httpx-sse: they speak HTTP/1.1 chunked and HTTP/1.0 close-delimited streams and
server-sent events, so no protocol code lives here. What they lack is built on top, in ``_Guard``:
a per-read timeout caps a pause mid-answer, but the first-token deadline counts from the request
(keep-alive comments do not reset it) and an interrupt must wake a read blocked in another
thread. Both shut the connection's socket down (closing alone does not wake a blocked ``recv``);
the socket comes from httpcore's ``trace`` hook as soon as it is connected. No retries: a failed
request is one spoken explanation, not a wait of several attempts.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator

import httpx
from httpx_sse import EventSource, SSEError

from voicecli.core.errors import UsageError
from voicecli.core.lifecycle import ManagedThread
from voicecli.reply.brain import ReplyControl, ReplyFailed
from voicecli.reply.llm.backend import LlmBackend, Messages, failure

MAX_ERROR_BODY = 4096
CONNECTED = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class _Guard:
    """Ends one request's blocking reads from another thread: on interrupt or at the deadline.

    ``expired`` tells the reader that the first-token deadline, not the server, ended the read.
    """

    def __init__(self, first_token_timeout_s: float) -> None:
        self.started = False  # the first token arrived
        self.expired = False
        self._lock = threading.Lock()
        self._stream = None  # httpcore's network stream, once connected
        self._shut = False
        self._deadline = ManagedThread("llm-first-token", self._watch, first_token_timeout_s)

    def __enter__(self) -> _Guard:
        self._deadline.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._deadline.stop_and_join()

    def trace(self, event: str, info: dict) -> None:
        """httpcore's trace hook: keep the connected stream (shut at once if already asked)."""
        if event in CONNECTED:
            with self._lock:
                self._stream = info["return_value"]
                shut = self._shut
            if shut:
                self.shut()

    def first_token(self) -> None:
        self.started = True
        self._deadline.stop()

    def shut(self) -> None:
        """Wake a read blocked on this request's socket (it then sees the end of the stream)."""
        self._deadline.stop()
        with self._lock:
            self._shut = True
            stream = self._stream
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)

    def _watch(self, thread: ManagedThread, seconds: float) -> None:
        if not thread.wait(seconds):  # neither the first token nor an interrupt in time
            self.expired = True
            self.shut()


def _error_detail(response: httpx.Response) -> str:
    """The server's error message, from an OpenAI-style JSON body or its first bytes."""
    body = b""
    try:
        for data in response.iter_bytes():
            body += data
            if len(body) >= MAX_ERROR_BODY:
                break
    except httpx.HTTPError:
        return ""
    text = body[:MAX_ERROR_BODY].decode("utf-8", "replace").strip()
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return text[:200]
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or text[:200])


class OpenAICompatBackend(LlmBackend):
    name = "openai"

    def __init__(
        self,
        url: str,
        *,
        model: str = "",
        api_key: str = "",
        connect_timeout_s: float = 3.0,
        first_token_timeout_s: float = 10.0,
        temperature: float = 0.3,
        max_tokens: int = 120,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise UsageError(
                f"LLM URL {url!r} is not an http(s) URL",
                hint="e.g. --llm-url http://127.0.0.1:11434/v1 for Ollama",
            )
        self.url = url
        base = parts.path.rstrip("/").removesuffix("/chat/completions")
        self.endpoint = urllib.parse.urlunsplit(
            (parts.scheme, parts.netloc, base + "/chat/completions", "", "")
        )
        self.model = model
        self.api_key = api_key
        self.connect_timeout_s = connect_timeout_s
        self.first_token_timeout_s = first_token_timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        timeout = httpx.Timeout(
            first_token_timeout_s, connect=connect_timeout_s, pool=connect_timeout_s
        )
        # a new connection per request (as before): its socket is the one the guard can shut
        transport = httpx.HTTPTransport(retries=0, limits=httpx.Limits(max_keepalive_connections=0))
        self._client = httpx.Client(transport=transport, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def _request_body(self, messages: Messages) -> bytes:
        body: dict = {
            "messages": messages,
            "stream": True,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.model:
            body["model"] = self.model
        return json.dumps(body).encode("utf-8")

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def stream(self, messages: Messages, control: ReplyControl) -> Iterator[str]:
        with _Guard(self.first_token_timeout_s) as guard:
            control.on_cancel(guard.shut)
            if control.cancelled:
                return
            try:
                with self._client.stream(
                    "POST",
                    self.endpoint,
                    content=self._request_body(messages),
                    headers=self._headers(),
                    extensions={"trace": guard.trace},
                ) as response:
                    if response.status_code != 200:
                        raise self._http_error(response)
                    yield from self._deltas(response, control, guard)
            except httpx.TransportError as exc:  # no connection, a timeout, a stream cut short
                if control.cancelled:
                    return
                raise self._explain(exc, guard) from None

    def _explain(self, exc: httpx.TransportError, guard: _Guard) -> ReplyFailed:
        if isinstance(exc, httpx.ConnectTimeout):
            limit = self.connect_timeout_s
            return failure("llm_unreachable", f"no connection to {self.url} within {limit} s")
        if isinstance(exc, httpx.ConnectError):
            return failure("llm_unreachable", f"cannot connect to {self.url}: {exc}")
        if guard.expired or isinstance(exc, httpx.TimeoutException):
            return self._timeout(first=not guard.started)
        return failure("llm_disconnected", f"{self.url} broke the stream: {exc!r}")

    def _http_error(self, response: httpx.Response) -> ReplyFailed:
        detail = _error_detail(response)
        if response.status_code in (400, 404) and not self.model:
            detail += " (no model was given: set --llm-model)"
        return failure("llm_http_error", f"HTTP {response.status_code} from {self.url}: {detail}")

    def _timeout(self, first: bool) -> ReplyFailed:
        what = "no first token" if first else "the stream stalled"
        limit = self.first_token_timeout_s
        return failure("llm_timeout", f"{what} from {self.url} within {limit} s")

    def _deltas(
        self, response: httpx.Response, control: ReplyControl, guard: _Guard
    ) -> Iterator[str]:
        """The text of each ``data:`` event of the stream, up to ``[DONE]``."""
        finished = False
        try:
            for event in EventSource(response).iter_sse():
                if control.cancelled:
                    return
                if event.data == "[DONE]":
                    return
                content, finish = self._parse(event.data)
                if content:
                    if not guard.started:
                        guard.first_token()
                        control.first_token()
                    yield content
                finished = finished or finish
        except SSEError as exc:
            raise failure("llm_failed", f"{self.url} did not stream events: {exc}") from None
        if control.cancelled:
            return
        if guard.expired:
            raise self._timeout(first=True)
        if not finished:
            raise failure("llm_disconnected", f"{self.url} ended the stream mid-answer")

    def _parse(self, payload: str) -> tuple[str | None, bool]:
        """One chunk's text and whether it ends the answer."""
        try:
            chunk = json.loads(payload)
            choice = (chunk.get("choices") or [{}])[0]
            content = (choice.get("delta") or {}).get("content")
        except (ValueError, AttributeError, IndexError, TypeError):
            raise failure(
                "llm_failed", f"unreadable chunk from {self.url}: {payload[:80]!r}"
            ) from None
        if chunk.get("error"):
            raise failure("llm_http_error", f"{self.url} sent an error: {chunk['error']}")
        return content, bool(choice.get("finish_reason"))
