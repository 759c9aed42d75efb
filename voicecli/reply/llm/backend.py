"""What every LLM backend offers, and the short spoken explanations of its failures.

Why one place for the explanations: whichever backend fails (a server, the embedded model),
the user hears the same short sentence for the same kind of failure, and the ``error`` event
carries a stable ``code`` (docs/events.md) with the details in its message.
"""

from __future__ import annotations

from collections.abc import Iterator

from voicecli.reply.brain import ReplyControl, ReplyFailed

SPOKEN = {
    "llm_unreachable": "Sorry, I can't reach the language model right now.",
    "llm_timeout": "Sorry, the language model is taking too long to answer.",
    "llm_http_error": "Sorry, the language model answered with an error.",
    "llm_disconnected": "Sorry, I lost the connection to the language model.",
    "llm_failed": "Sorry, the language model could not answer that.",
}


def failure(code: str, message: str) -> ReplyFailed:
    return ReplyFailed(code, message, SPOKEN[code])


Messages = list[dict[str, str]]  # OpenAI chat messages: {"role": ..., "content": ...}


class LlmBackend:
    """Streams a chat completion as text deltas.

    ``stream`` must stop promptly once ``control`` is cancelled (returning quietly), call
    ``control.first_token()`` when the first text arrives, and raise ``ReplyFailed`` (see
    ``failure``) for timeouts, errors and lost connections.
    """

    name = "llm"

    def stream(self, messages: Messages, control: ReplyControl) -> Iterator[str]:
        raise NotImplementedError

    def close(self) -> None:
        """Free the backend's resources; called once by the brain's owner."""
