"""``--transcript FILE``: the conversation appended as text, one line per thing said.

Why an event consumer: it reads the same stream as the printers, so typed, spoken and
server conversations are logged the same way, and only words are kept (no audio). Line
format: ``2025-03-04 16:07:12  you: what time is it?`` / ``... assistant: It's 4:07 PM.``;
a header line marks where each run starts. A write that fails (disk full) is reported once on
the log and the conversation goes on.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from voicecli.core.errors import UsageError
from voicecli.core.events import Event, Reply, Transcript

log = logging.getLogger(__name__)


class TranscriptLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        except OSError as exc:
            raise UsageError(f"cannot write transcript {path}: {exc.strerror or exc}") from None
        self._failed = False
        self._write(f"# voicecli conversation, {datetime.now():%Y-%m-%d %H:%M:%S}")

    def __call__(self, event: Event) -> None:
        if isinstance(event, Transcript) and event.final:
            speaker = "you"
        elif isinstance(event, Reply) and event.final and event.text:
            speaker = "assistant"
        else:
            return
        moment = datetime.fromtimestamp(time.time() - (time.monotonic() - event.wall))
        self._write(f"{moment:%Y-%m-%d %H:%M:%S}  {speaker}: {event.text}")

    def _write(self, line: str) -> None:
        if self._failed:
            return
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError as exc:
            self._failed = True
            log.warning("transcript %s: writing stopped: %s", self.path, exc)

    def close(self) -> None:
        self._file.close()
