"""ThermalProtection: what voicecli does to cool down while the processor is hot.

Why plain flags: the listener, responder, LLM client and dashboard each read the one flag that
concerns them when they next need it (no callbacks, no locks: each is a single attribute
assignment). The monitor engages protection on entering ``hot`` and releases it on resume;
``actions`` names what is in force and goes into the ``thermal`` event. docs/thermal.md is
the reference.
"""

from __future__ import annotations

#: Every action, in the order they are announced.
ACTIONS = (
    "partials_off",  # no partial transcripts: speculative STT runs only at the end of speech
    "stt_one_thread",  # STT limited to one CPU thread
    "first_sentence_only",  # replies cut to their first sentence
    "llm_paused",  # LLM generation stops after that first sentence
    "light_voice",  # espeak-ng speaks instead of Piper (a fraction of its CPU)
    "dashboard_slow",  # the dashboard redraws at HOT_DASHBOARD_HZ
    "banner",  # a banner says why answers are short
)
HOT_DASHBOARD_HZ = 1.0


class ThermalProtection:
    """Flags others read; ``None`` for a limit means "no thermal limit: use your own setting"."""

    active: bool
    partials_enabled: bool
    stt_threads: int | None
    first_sentence_only: bool
    llm_paused: bool
    light_voice: bool
    dashboard_hz: float | None
    banner: str | None

    def __init__(self) -> None:
        self.release()

    def engage(self, temp_c: float | None, resume_c: float) -> tuple[str, ...]:
        """Turn every action on; returns the action names now in force."""
        heat = f" ({temp_c:.0f} °C)" if temp_c is not None else ""
        self.banner = f"Processor hot{heat}: short answers until it cools below {resume_c:.0f} °C"
        self.partials_enabled = False
        self.stt_threads = 1
        self.first_sentence_only = True
        self.llm_paused = True
        self.light_voice = True
        self.dashboard_hz = HOT_DASHBOARD_HZ
        self.active = True
        return self.actions

    def release(self) -> tuple[str, ...]:
        """Undo every action (the state left ``hot``); returns () (nothing in force)."""
        self.active = False
        self.partials_enabled = True
        self.stt_threads = None
        self.first_sentence_only = False
        self.llm_paused = False
        self.light_voice = False
        self.dashboard_hz = None
        self.banner = None
        return self.actions

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS if self.active else ()
