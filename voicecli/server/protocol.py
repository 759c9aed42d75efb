"""The WebSocket protocol, version 1: message shapes, validation and close codes.

Why one module: the server, the client and docs/protocol.md must agree on every field (the
seed project's validator rejected its own client's messages). Parsing raises only
``HelloRejected`` (the connection is closed with its code) or ``BadMessage`` (answered with a
non-fatal ``error`` event; the connection goes on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

PROTOCOL_VERSION = 1
AUDIO_FORMAT = "s16le"
#: Client audio rates the server accepts (it resamples to 16 kHz, and replies at the same rate).
SUPPORTED_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)
DEFAULT_RATE = 16000
MAX_MESSAGE_BYTES = 2**20  # a larger frame closes the connection with 1009
MAX_AUDIO_CHUNK = 64 * 1024  # reply audio is sent in binary frames of at most this size
MAX_TEXT_CHARS = 2000
CLIENT_TYPES = ("text", "interrupt", "reset", "end")


class Close(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    TOO_BIG = 1009  # a frame over MAX_MESSAGE_BYTES
    STAGE_FAILED = 1011  # this session's pipeline failed (or the server's shared parts did)
    SERVER_FULL = 1013  # --max-sessions live connections already
    BAD_HELLO = 4400  # anything before hello, or a malformed hello
    UNAUTHORIZED = 4401  # missing or wrong token
    BAD_VERSION = 4406  # unsupported protocol version
    TAKEN_OVER = 4409  # a newer connection resumed this session


class HelloRejected(Exception):
    def __init__(self, close: Close, reason: str) -> None:
        super().__init__(reason)
        self.close = close
        self.reason = reason


class BadMessage(Exception):
    """A client message after ready that cannot be used; ``code`` goes in the error event."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Hello:
    version: int
    session_id: str | None = None
    token: str | None = None
    rate: int = DEFAULT_RATE


@dataclass(frozen=True)
class ClientMessage:
    type: str
    text: str | None = None


def _json_object(raw: str | bytes) -> dict[str, Any] | None:
    if isinstance(raw, bytes):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def parse_hello(raw: str | bytes) -> Hello:
    """The first message; checked in order: shape (4400), version (4406), fields (4400).
    The token is checked by the server (4401) once the hello is known to be well formed."""
    data = _json_object(raw)
    if data is None or data.get("type") != "hello":
        raise HelloRejected(Close.BAD_HELLO, "the first message must be a JSON hello")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise HelloRejected(Close.BAD_HELLO, "hello: version must be an integer")
    if version != PROTOCOL_VERSION:
        raise HelloRejected(
            Close.BAD_VERSION, f"protocol version {version} unsupported (use {PROTOCOL_VERSION})"
        )
    session_id = data.get("session_id")
    token = data.get("token")
    for name, value in (("session_id", session_id), ("token", token)):
        if value is not None and not isinstance(value, str):
            raise HelloRejected(Close.BAD_HELLO, f"hello: {name} must be a string")
    audio = data.get("audio", {})
    if not isinstance(audio, dict):
        raise HelloRejected(Close.BAD_HELLO, "hello: audio must be an object")
    rate = audio.get("rate", DEFAULT_RATE)
    if not isinstance(rate, int) or isinstance(rate, bool) or rate not in SUPPORTED_RATES:
        rates = ", ".join(map(str, SUPPORTED_RATES))
        raise HelloRejected(Close.BAD_HELLO, f"hello: audio rate must be one of {rates}")
    if audio.get("channels", 1) != 1:
        raise HelloRejected(Close.BAD_HELLO, "hello: audio must be mono (channels 1)")
    if audio.get("format", AUDIO_FORMAT) != AUDIO_FORMAT:
        raise HelloRejected(Close.BAD_HELLO, f"hello: audio format must be {AUDIO_FORMAT}")
    return Hello(version=version, session_id=session_id or None, token=token, rate=rate)


def parse_message(raw: str) -> ClientMessage:
    """A JSON control message after ready."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadMessage("bad_json", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage("bad_message", "a message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise BadMessage("bad_message", "missing field: type")
    if kind == "hello":
        raise BadMessage("unexpected_hello", "already said hello: the session is ready")
    if kind not in CLIENT_TYPES:
        raise BadMessage("unknown_type", f"unknown message type {kind!r}")
    if kind != "text":
        return ClientMessage(kind)
    text = data.get("text")
    if not isinstance(text, str):
        raise BadMessage("bad_message", "text: missing field: text (a string)")
    if not text.strip():
        raise BadMessage("bad_message", "text: the text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise BadMessage("bad_message", f"text: longer than {MAX_TEXT_CHARS} characters")
    return ClientMessage(kind, text.strip())


# -- server -> client (events go as event.to_json(); these are the protocol's own messages) ----
def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def ready(session_id: str, resumed: bool, history_turns: int, rate: int) -> str:
    return dumps(
        {
            "type": "ready",
            "version": PROTOCOL_VERSION,
            "session_id": session_id,
            "resumed": resumed,
            "history_turns": history_turns,
            "audio": {"rate": rate, "channels": 1, "format": AUDIO_FORMAT},
        }
    )


def audio_header(rate: int, seq: int) -> str:
    return dumps({"type": "audio", "rate": rate, "format": AUDIO_FORMAT, "seq": seq})


DONE = dumps({"type": "done"})
RESET_DONE = dumps({"type": "reset_done"})
AUDIO_STOP = dumps({"type": "audio_stop"})


def hello(session_id: str | None = None, token: str | None = None, rate: int = DEFAULT_RATE) -> str:
    """The client's first message (used by voicecli connect, the benchmark and the tests)."""
    message: dict[str, Any] = {
        "type": "hello",
        "version": PROTOCOL_VERSION,
        "audio": {"rate": rate, "channels": 1, "format": AUDIO_FORMAT},
    }
    if session_id:
        message["session_id"] = session_id
    if token is not None:
        message["token"] = token
    return dumps(message)
