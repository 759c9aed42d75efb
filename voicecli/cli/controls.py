"""What the keys do during ``voicecli chat``: q quits, m mutes, space talks, t types, s hushes.

Why one object: the dashboard shows its state (the message being typed) and the plain mode
uses the same keys; both feed it keys from the key thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\b")
ESCAPE = "\x1b"
HELP = "q quit · m mute · t type · s stop speaking"
HELP_PTT = HELP + " · space talk on/off"


class Controls:
    def __init__(
        self,
        *,
        submit_text: Callable[[str], object],
        mic=None,
        hush: Callable[[], object] | None = None,
        typing_allowed: bool = True,
    ) -> None:
        self.submit_text = submit_text
        self.mic = mic
        self.hush = hush
        self.typing_allowed = typing_allowed
        self.quit = threading.Event()
        self.typing: str | None = None  # the message being typed; None when not typing
        self._lock = threading.Lock()

    @property
    def help(self) -> str:
        return HELP_PTT if self.mic is not None and self.mic.push_to_talk else HELP

    def on_key(self, key: str) -> None:
        with self._lock:
            if self.typing is not None:
                self._type(key)
                return
        lower = key.lower()
        if lower == "q":
            self.quit.set()
        elif lower == "m" and self.mic is not None:
            self.mic.toggle_mute()
        elif key == " " and self.mic is not None and self.mic.push_to_talk:
            self.mic.toggle_talk()
        elif lower == "s" and self.hush is not None:
            self.hush()
        elif lower == "t" and self.typing_allowed:
            with self._lock:
                self.typing = ""

    def _type(self, key: str) -> None:
        if key in ENTER:
            text, self.typing = self.typing.strip(), None
            if text:
                self.submit_text(text)
        elif key.startswith(ESCAPE):
            self.typing = None
        elif key in BACKSPACE:
            self.typing = self.typing[:-1]
        elif key.isprintable():
            self.typing += key
