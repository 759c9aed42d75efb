"""Exit codes and the errors that map onto them.

Why: bad input must end with one clear line and a distinct exit code, never a traceback. Code
deep in a stage raises a ``VoicecliError`` subclass; the CLI prints its message and exits with
its status.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    USAGE = 2
    BAD_AUDIO = 3
    NO_AUDIO_DEVICE = 4
    MODEL_MISSING = 5
    RUNTIME_FAILURE = 6
    SIGINT = 130
    SIGTERM = 143


class VoicecliError(Exception):
    """An error with a user-facing message, an exit status and a snake_case code."""

    status: ExitStatus = ExitStatus.RUNTIME_FAILURE
    code: str = "runtime_failure"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(VoicecliError):
    status = ExitStatus.USAGE
    code = "usage"


class AudioInputError(VoicecliError):
    """Unreadable, empty or invalid audio."""

    status = ExitStatus.BAD_AUDIO
    code = "bad_audio"


class AudioDeviceError(VoicecliError):
    """No PortAudio library, no microphone or no speaker."""

    status = ExitStatus.NO_AUDIO_DEVICE
    code = "no_audio_device"


class ModelMissingError(VoicecliError):
    status = ExitStatus.MODEL_MISSING
    code = "model_missing"


class StageError(VoicecliError):
    """A pipeline stage failed at run time."""

    status = ExitStatus.RUNTIME_FAILURE
    code = "stage_failed"
