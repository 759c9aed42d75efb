"""Any OpenAI-compatible chat server (Ollama, llama.cpp server, LM Studio, vLLM, ...).

Why the standard library: one streamed POST to ``/chat/completions`` and a line-by-line
reading of its server-sent events is all it takes, and owning the socket is what makes the
timeouts and cancellation exact: the connect timeout bounds the TCP connect, the first-token
timeout bounds everything from the request to the first text (keep-alive chunks do not reset
it), and an interrupt shuts the socket down from the interrupting thread, which wakes the
blocked read at once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Iterator

from voicecli.core.errors import UsageError
from voicecli.reply.brain import ReplyControl, ReplyFailed
from voicecli.reply.llm.backend import LlmBackend, Messages, failure

MAX_LINE = 1 << 20  # one SSE line (one chunk of JSON)
MAX_ERROR_BODY = 4096


def _shut(conn: http.client.HTTPConnection) -> None:
    """Wake a read blocked on ``conn`` in another thread (it then sees end of stream)."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _error_detail(response: http.client.HTTPResponse) -> str:
    """The server's error message, from an OpenAI-style JSON body or its first bytes."""
    try:
        text = response.read(MAX_ERROR_BODY).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException):
        return ""
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
        self._connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._host, self._port = parts.hostname, port
        base = parts.path.rstrip("/").removesuffix("/chat/completions")
        self.endpoint = base + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.connect_timeout_s = connect_timeout_s
        self.first_token_timeout_s = first_token_timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens

    def _connect(self) -> http.client.HTTPConnection:
        conn = self._connection_class(self._host, self._port, timeout=self.connect_timeout_s)
        try:
            conn.connect()
        except TimeoutError:
            conn.close()
            raise failure(
                "llm_unreachable", f"no connection to {self.url} within {self.connect_timeout_s} s"
            ) from None
        except OSError as exc:
            conn.close()
            raise failure("llm_unreachable", f"cannot connect to {self.url}: {exc}") from None
        return conn

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
        conn = self._connect()
        control.on_cancel(lambda: _shut(conn))
        try:
            if control.cancelled:
                return
            deadline = time.monotonic() + self.first_token_timeout_s
            conn.sock.settimeout(self.first_token_timeout_s)
            try:
                conn.request("POST", self.endpoint, self._request_body(messages), self._headers())
                response = conn.getresponse()
            except TimeoutError:
                raise self._timeout(first=True) from None
            except (OSError, http.client.HTTPException) as exc:
                if control.cancelled:
                    return
                raise failure(
                    "llm_disconnected", f"{self.url} closed the connection: {exc!r}"
                ) from None
            if response.status != 200:
                detail = _error_detail(response)
                if response.status in (400, 404) and not self.model:
                    detail += " (no model was given: set --llm-model)"
                raise failure("llm_http_error", f"HTTP {response.status} from {self.url}: {detail}")
            yield from self._deltas(conn, response, control, deadline)
        finally:
            conn.close()

    def _timeout(self, first: bool) -> ReplyFailed:
        what = "no first token" if first else "the stream stalled"
        limit = self.first_token_timeout_s
        return failure("llm_timeout", f"{what} from {self.url} within {limit} s")

    def _deltas(
        self,
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        control: ReplyControl,
        deadline: float,
    ) -> Iterator[str]:
        """The text of each ``data:`` line of the event stream, up to ``[DONE]``."""
        started = finished = False
        while True:
            wait = self.first_token_timeout_s if started else deadline - time.monotonic()
            if wait <= 0:
                raise self._timeout(first=True)
            conn.sock.settimeout(wait)
            try:
                line = response.readline(MAX_LINE)
            except TimeoutError:
                if control.cancelled:
                    return
                raise self._timeout(first=not started) from None
            except (OSError, http.client.HTTPException) as exc:
                if control.cancelled:
                    return
                raise failure("llm_disconnected", f"{self.url} broke the stream: {exc!r}") from None
            if control.cancelled:
                return
            if not line:
                if finished:
                    return
                raise failure("llm_disconnected", f"{self.url} ended the stream mid-answer")
            text = line.decode("utf-8", "replace").strip()
            if not text.startswith("data:"):
                continue  # blank separators, ": keep-alive" comments, event names
            payload = text[5:].strip()
            if payload == "[DONE]":
                return
            try:
                chunk = json.loads(payload)
                choice = (chunk.get("choices") or [{}])[0]
            except (ValueError, AttributeError, IndexError, TypeError):
                raise failure(
                    "llm_failed", f"unreadable chunk from {self.url}: {payload[:80]!r}"
                ) from None
            if chunk.get("error"):
                raise failure("llm_http_error", f"{self.url} sent an error: {chunk['error']}")
            content = (choice.get("delta") or {}).get("content")
            if content:
                if not started:
                    started = True
                    control.first_token()
                yield content
            if choice.get("finish_reason"):
                finished = True
