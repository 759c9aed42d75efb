"""The brain with a language model: skills first, then the LLM.

Why skills first: code answers arithmetic, the time and recall exactly and instantly; a small
model gets them wrong. Only what no skill takes reaches the LLM, with the conversation's last
exchanges (bounded) so that follow-up questions make sense.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from voicecli.core.config import LlmConfig
from voicecli.reply.brain import Brain, ReplyControl, skill_answer
from voicecli.reply.context import Conversation, Exchange, SkillContext
from voicecli.reply.llm.backend import LlmBackend, Messages
from voicecli.reply.sentences import SentenceSplitter
from voicecli.reply.skills import SKILLS, Skill


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
        self.llm_paused = False  # thermal protection: no tokens beyond the first sentence

    def apply_thermal(self, protection) -> None:
        """Thermal protection (docs/thermal.md): generation stops after the first sentence."""
        self.llm_paused = protection.llm_paused

    def reply(self, text: str, context: SkillContext) -> Iterator[str]:
        return self.stream(text, context, ReplyControl())

    def stream(self, text: str, context: SkillContext, control: ReplyControl) -> Iterator[str]:
        answer = skill_answer(self.skills, text, context)
        if answer is not None:  # a skill knows ("" too: understood, nothing to say)
            yield answer
            return
        messages = chat_messages(
            self.config.system_prompt, context.conversation, text, self.config.max_history_turns
        )
        with contextlib.closing(self.backend.stream(messages, control)) as deltas:
            yield from _first_sentence_when(lambda: self.llm_paused, deltas)

    def close(self) -> None:
        self.backend.close()


def _first_sentence_when(paused, deltas: Iterator[str]) -> Iterator[str]:
    """``deltas`` as they come; once ``paused()`` and the first sentence is complete, the text
    ends there and the stream is left (its owner closes it: generation stops)."""
    splitter, text, sent, first_end = SentenceSplitter(), "", 0, None
    for delta in deltas:
        text += delta
        done = splitter.feed(delta)
        if first_end is None and done:
            first_end = text.index(done[0]) + len(done[0])
        if first_end is not None and paused():
            if first_end > sent:
                yield text[sent:first_end]
            return
        yield delta
        sent = len(text)
