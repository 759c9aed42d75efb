"""A brain that talks for a long time, for the tests that interrupt it."""

from __future__ import annotations

import time

from voicecli.reply.brain import SkillsBrain


class StoryBrain(SkillsBrain):
    """The skills (so "stop" says nothing), except when asked for a story: a long answer,
    one sentence every ``pause_s`` -- the pace of a language model."""

    name = "story"

    def __init__(
        self,
        sentences: int = 60,
        pause_s: float = 0.05,
        sentence: str = "This is sentence {} of the story. ",
    ) -> None:
        super().__init__()
        self.sentences, self.pause_s, self.sentence = sentences, pause_s, sentence

    def reply(self, text, context):
        if "story" not in text.lower():
            yield from super().reply(text, context)
            return
        for number in range(1, self.sentences + 1):
            time.sleep(self.pause_s)
            yield self.sentence.format(number)
