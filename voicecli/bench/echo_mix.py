"""``voicecli bench --echo``: the echo canceller's figures on deterministic offline mixes.

Why offline: ``bench`` feeds files through the pipeline with no speaker, so no ``echo`` event
exists there, and a room's echo path cannot be held still on real devices. Here a spoken reply
(espeak-ng) goes through generated room responses -- a bulk delay, a direct path and a noise
tail decaying with the given RT60, at a gain relative to the user's voice -- and the WebRTC
canceller (``voicecli.audio.echo_canceller``, noise suppression and gain control off: they
would count as cancellation) runs frame by frame, as on a live microphone. Reported per room:
what the ``echo`` event would say (the delay it measured, ERLE, state), the ERLE after
convergence, the convergence time and the processing cost. ``benchmarks/echo_offline.py``
adds the old echo model and WER over these rooms.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

from voicecli.audio.echo_canceller import EchoCanceller
from voicecli.core.audio_format import FRAME, SAMPLE_RATE, TTS_RATE

VOICE_DBFS = -30.0  # the user's voice, active RMS; the echo is set relative to it
CONVERGED_DB = 20.0  # a 0.5 s window with this ERLE: converged
LATE_S = 2.0  # ERLE "after convergence": windows from here on
REPLIES = (
    "Here is the forecast for the rest of the week. Monday stays dry with a light wind from "
    "the west, Tuesday brings clouds after noon, and on Wednesday expect showers in the "
    "evening, so take a coat if you go out late.",
    "Your shopping list has seven items: milk, eggs, two loaves of bread, a bag of apples, "
    "coffee beans, rice, and something you wrote as blue, which I could not place. Shall I "
    "read the list again or add another item?",
)


@dataclass(frozen=True)
class Room:
    delay_ms: int
    rt60_s: float
    gain_db: float  # echo level relative to the user's voice

    @property
    def name(self) -> str:
        return f"{self.delay_ms} ms, RT60 {self.rt60_s} s, {self.gain_db:+.0f} dB"

    @property
    def short_tail(self) -> bool:
        return self.rt60_s <= 0.2

    def response(self) -> np.ndarray:
        rng = np.random.default_rng(self.delay_ms * 1000 + int(self.rt60_s * 100))
        t = np.arange(int(self.rt60_s * SAMPLE_RATE)) / SAMPLE_RATE
        tail = rng.standard_normal(len(t)) * np.exp(-6.9 * t / self.rt60_s) * 0.06
        tail[0] = 1.0
        return np.concatenate((np.zeros(self.delay_ms * SAMPLE_RATE // 1000), tail))

    def echo(self, reply: np.ndarray) -> np.ndarray:
        """What the microphone hears of ``reply`` (16 kHz) in this room."""
        heard = np.convolve(reply, self.response())[: len(reply)]
        return at_level(heard, VOICE_DBFS + self.gain_db)


ROOMS = (
    Room(20, 0.2, 0.0),
    Room(60, 0.2, 6.0),
    Room(150, 0.2, -6.0),
    Room(60, 0.4, 0.0),
    Room(100, 0.6, 6.0),
)


def active_rms(x: np.ndarray) -> float:
    """RMS over the 10 ms blocks within 20 dB of the loudest (speech, not its pauses)."""
    blocks = x[: len(x) - len(x) % 160].reshape(-1, 160)
    power = np.mean(blocks**2, axis=1)
    loud = power[power > 0.01 * power.max()]
    return math.sqrt(float(np.mean(loud))) if len(loud) else 0.0


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    return (x * (10 ** (dbfs / 20) / max(active_rms(x), 1e-9))).astype(np.float32)


def erle_and_convergence(echo: np.ndarray, out: np.ndarray) -> tuple[float, float | None]:
    """ERLE over t >= LATE_S where echo plays; the end of the first 0.5 s window reaching
    CONVERGED_DB (None: never)."""
    hop = SAMPLE_RATE // 4
    windows = []
    for start in range(0, len(out) - 2 * hop, hop):
        e, o = echo[start : start + 2 * hop], out[start : start + 2 * hop]
        if np.mean(e**2) > 1e-7:
            windows.append((start / SAMPLE_RATE, np.sum(e**2), np.sum(o**2)))
    late = [(e, o) for t, e, o in windows if t >= LATE_S]
    final = 10 * math.log10(sum(e for e, _ in late) / max(sum(o for _, o in late), 1e-12))
    for t, e, o in windows:
        if 10 * math.log10(e / max(o, 1e-12)) >= CONVERGED_DB:
            return final, t + 0.5
    return final, None


def cancel(canceller: EchoCanceller, reference: np.ndarray, mic: np.ndarray):
    """The canceller over the whole mix in microphone frames; (output, CPU s per audio s)."""
    n = len(mic) - len(mic) % FRAME
    out = np.zeros(n, dtype=np.float32)
    start = time.process_time()
    for i in range(0, n, FRAME):
        canceller.reverse(reference[i : i + FRAME])
        out[i : i + FRAME] = canceller.process(mic[i : i + FRAME])
    return out, (time.process_time() - start) / (n / SAMPLE_RATE)


def replies() -> list[np.ndarray]:
    """The spoken replies at 16 kHz (espeak-ng, made on the fly)."""
    import soxr

    from voicecli.reply.synth import compose

    return [soxr.resample(compose(r), TTS_RATE, SAMPLE_RATE).astype(np.float32) for r in REPLIES]


def measure_room(room: Room, spoken: list[np.ndarray]) -> dict:
    """Each reply through ``room``: the lowest ERLE, the latest convergence, the median cost,
    and the canceller's own view at the end (what its ``echo`` event says)."""
    erles, convergence, costs, states = [], [], [], []
    for reply in spoken:
        echo = room.echo(reply)
        canceller = EchoCanceller()  # noise suppression and gain control off
        out, cost = cancel(canceller, reply, echo)
        erle, converged = erle_and_convergence(echo, out)
        erles.append(erle)
        convergence.append(converged)
        costs.append(cost)
        states.append(canceller.stats())
    never = None in convergence
    return {
        "room": room.name,
        "delay_ms": room.delay_ms,
        "rt60_s": room.rt60_s,
        "gain_db": room.gain_db,
        "erle_db": round(min(erles), 1),
        "converged_after_s": None if never else max(convergence),
        "cpu_percent": round(100 * statistics.median(costs), 2),
        "event_delay_ms": [s.delay_ms for s in states],
        "event_erle_db": [s.erle_db for s in states],
        "event_state": [s.state for s in states],
    }


def run_echo_bench(rooms=ROOMS) -> dict:
    spoken = replies()
    return {
        "kind": "echo",
        "config": {
            "replies": len(spoken),
            "voice": "espeak-ng",
            "voice_dbfs": VOICE_DBFS,
            "processing": "echo cancellation only (noise suppression, gain control off)",
        },
        "rooms": [measure_room(room, spoken) for room in rooms],
    }


def render_echo(report: dict, console) -> None:
    """The rooms as a Rich table; delays: the room's / what the canceller measured."""
    from rich.table import Table

    table = Table(title="echo canceller, offline mixes (espeak-ng replies)")
    for column in ("room", "delay measured ms", "ERLE dB", "converged after s", "state", "CPU %"):
        table.add_column(column, justify="left" if column == "room" else "right")
    for row in report["rooms"]:
        measured = ", ".join("–" if d is None else f"{d:.0f}" for d in row["event_delay_ms"])
        converged = row["converged_after_s"]
        table.add_row(
            row["room"],
            measured,
            f"{row['erle_db']:.1f}",
            "never" if converged is None else f"{converged:.2f}",
            ", ".join(row["event_state"]),
            f"{row['cpu_percent']:.1f}",
        )
    console.print(table)
