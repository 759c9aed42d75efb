"""Sessions: what the server remembers of a conversation between connections.

Why apart from the connection: a phone that loses its network must find its conversation again.
A session holds only what outlives a socket (history, turn and audio counters, the token that
created it); the pipeline and its threads live with the connection. A detached session is kept
for the TTL, then forgotten.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from voicecli.reply.context import Conversation


def token_digest(token: str | None) -> bytes:
    return hashlib.sha256(("\0" if token is None else "t" + token).encode()).digest()


@dataclass(eq=False)
class Session:
    id: str
    token: bytes  # digest of the token that created it: an id is only valid with that token
    conversation: Conversation = field(default_factory=Conversation)
    turn_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    audio_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    connection: object | None = None  # the live Connection, None while detached
    detached_at: float | None = None

    @property
    def history_turns(self) -> int:
        return len(self.conversation.history)


class SessionStore:
    """All sessions of one server; used from the event loop thread only."""

    def __init__(
        self, ttl_s: float, max_kept: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_kept = max_kept
        self.clock = clock
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def live_count(self) -> int:
        return sum(1 for s in self._sessions.values() if s.connection is not None)

    def find(self, session_id: str | None, token: str | None) -> Session | None:
        """The session with this id, if it exists, has not expired and belongs to ``token``."""
        self.expire()
        session = self._sessions.get(session_id) if session_id else None
        if session is None or not hmac.compare_digest(session.token, token_digest(token)):
            return None
        return session

    def create(self, token: str | None) -> Session:
        self.expire()
        self._evict_beyond(self.max_kept - 1)
        session = Session(id=str(uuid.uuid4()), token=token_digest(token))
        self._sessions[session.id] = session
        return session

    def attach(self, session: Session, connection: object) -> None:
        session.connection = connection
        session.detached_at = None

    def detach(self, session: Session, connection: object) -> None:
        if session.connection is connection:
            session.connection = None
            session.detached_at = self.clock()

    def expire(self) -> list[Session]:
        """Forget detached sessions older than the TTL; returns them."""
        now = self.clock()
        gone = [
            s
            for s in self._sessions.values()
            if s.connection is None
            and s.detached_at is not None
            and now - s.detached_at > self.ttl_s
        ]
        for session in gone:
            del self._sessions[session.id]
        return gone

    def _evict_beyond(self, limit: int) -> None:
        """Too many kept sessions: forget the longest-detached ones first."""
        detached = sorted(
            (s for s in self._sessions.values() if s.connection is None),
            key=lambda s: s.detached_at or 0.0,
        )
        while len(self._sessions) > limit and detached:
            del self._sessions[detached.pop(0).id]
