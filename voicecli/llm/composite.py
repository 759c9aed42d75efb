"""The brain with a language model: skills first, then the LLM.

Why skills first: code answers arithmetic, the time and recall exactly and instantly; a small
model gets them wrong. Only what no skill takes reaches the LLM, with the conversation's last
exchanges (bounded) so that follow-up questions make sense.
"""

from __future__ import annotations

from collections.abc import Iterator

from voicecli.brain import Brain, Conversation, Exchange, ReplyControl, skill_answer
from voicecli.config import LlmConfig
from voicecli.llm.backend import LlmBackend, Messages
from voicecli.skills import SKILLS, Skill


def history_window(history: list[Exchange], max_turns: int) -> list[Exchange]:
    """At most ``max_turns`` recent exchanges, dropped half a window at a time.

    Why not simply the last ``max_turns``: a window that slides by one exchange per turn
    changes the start of every prompt, and llama.cpp (embedded or server) must then evaluate
    it all again -- seconds on a small CPU. Dropping in steps keeps the prompt growing by
    appending, which its prompt cache reuses.
    """
    if max_turns <= 0:
        return []
    if len(history) <= max_turns:
        return history
    step = max(1, max_turns // 2)
    start = -(-(len(history) - max_turns) // step) * step  # rounded up to a whole step
    return history[start:]


def chat_messages(
    system_prompt: str, conversation: Conversation, text: str, max_turns: int
) -> Messages:
    """System prompt, recent exchanges of this conversation (bounded), the new question."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    for exchange in history_window(conversation.history, max_turns):
        messages.append({"role": "user", "content": exchange.user})
        messages.append({"role": "assistant", "content": exchange.assistant})
    messages.append({"role": "user", "content": text})
    return messages


class SkillsThenLlm(Brain):
    name = "skills+llm"

    def __init__(
        self, backend: LlmBackend, config: LlmConfig, skills: tuple[Skill, ...] = SKILLS
    ) -> None:
        self.backend = backend
        self.config = config
        self.skills = skills

    def reply(self, text: str, conversation: Conversation) -> Iterator[str]:
        return self.stream(text, conversation, ReplyControl())

    def stream(self, text: str, conversation: Conversation, control: ReplyControl) -> Iterator[str]:
        answer = skill_answer(self.skills, text, conversation)
        if answer is not None:  # a skill knows ("" too: understood, nothing to say)
            yield answer
            return
        messages = chat_messages(
            self.config.system_prompt, conversation, text, self.config.max_history_turns
        )
        yield from self.backend.stream(messages, control)

    def close(self) -> None:
        self.backend.close()
