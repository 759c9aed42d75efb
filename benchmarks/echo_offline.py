"""Offline, deterministic echo benchmark: the old echo model against WebRTC echo cancellation.

Why offline: a room's echo path cannot be held still on real devices, and the virtual
loopback has no reverberation. Here the reply (espeak-ng, ``voicecli.reply.synth``) goes
through generated room responses -- a bulk delay, a direct path and an exponentially decaying
noise tail of a given RT60, at a gain relative to the user's voice -- and a question (real
recordings from ``shared/audio/real/utterances``, Piper and espeak-ng questions) is spoken over it
after the canceller had time to converge. Both models run frame by frame (512 samples) on the
same mixes in the same run:

* old: ``voicecli.audio.echo_guard.EchoGuard`` (bulk delay + 48-tap least-squares subtractor),
  its residual taken before its barge-in hold/gate logic;
* new: ``voicecli.audio.echo_canceller.EchoCanceller`` (WebRTC AEC3 from ``livekit``);
* listener: what the listener gets of a barge-in -- the canceller's linear filter
  (``voicecli.audio.linear_echo``) once it is ready, else the module's output (its ERLE is the
  linear filter's where ready).

Reported per room: ERLE after convergence (reply alone, t >= 2 s, blocks where echo plays),
convergence time (end of the first 0.5 s window with 20 dB ERLE), WER of the questions over the
reply vs in silence per voice family, and processing cost (CPU seconds per audio second).
Then the noise table: utterances mixed with ``noise/`` recordings at 5 and 10 dB SNR, through
the module with noise suppression, the high-pass filter and gain control off and on, which
decides their defaults. Run: ``python benchmarks/echo_offline.py [--out benchmarks/ECHO.md]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import soxr

from voicecli.audio.echo_canceller import EchoCanceller
from voicecli.audio.echo_guard import EchoGuard
from voicecli.audio.file import load_audio
from voicecli.audio.playback_monitor import PlaybackMonitor
from voicecli.bench.corpus import DEFAULT_PHRASES
from voicecli.bench.echo_mix import (
    REPLIES,
    ROOMS,
    VOICE_DBFS,
    at_level,
    erle_and_convergence,
)
from voicecli.bench.wer import WordErrors, word_errors
from voicecli.core.audio_format import FRAME, SAMPLE_RATE, TTS_RATE
from voicecli.core.config import Config, TtsConfig
from voicecli.listen.stt import SpeechToText
from voicecli.reply.synth import compose, speak
from voicecli.reply.tts import TextToSpeech

SHARED_AUDIO = Path(
    os.environ.get("VOICECLI_SHARED_AUDIO")
    or Path(__file__).resolve().parents[2] / "shared" / "audio"
)
REAL = SHARED_AUDIO / "real"
REAL_QUESTIONS = (
    "ps_cards_002.flac",
    "ps_cards_003.flac",
    "ps_cards_005.flac",
    "ps_goforward.flac",
    "ps_cards_004.flac",
    "wwb_computer_0386da81.flac",
    "wwb_jarvis_008a6329.flac",
    "wwb_smart_mirror_007b3f76.flac",
    "wwb_snowboy_00927c6f.flac",
    "wwb_view_glass_003bc806.flac",
)
NOISES = ("kitchen.flac", "stationary_lowfreq.flac", "music_perfect_alley.flac")
QUESTION_AT_S = 3.0  # the question starts this far into the reply (after convergence)


def to16k(x: np.ndarray) -> np.ndarray:
    return soxr.resample(x, TTS_RATE, SAMPLE_RATE).astype(np.float32)


class Old:
    """The echo guard's subtractor, fed as the microphone source feeds it."""

    name = "old (echo_guard)"

    def __init__(self) -> None:
        self.monitor = PlaybackMonitor()
        self.monitor.reply_started()
        self.guard = EchoGuard(self.monitor, barge_in=True, on_barge_in=lambda *_: None)

    def step(self, reference: np.ndarray, mic: np.ndarray) -> np.ndarray:
        self.monitor.append(reference, audible=True)
        self.guard.process(mic, 0.0, self.monitor.count)
        return self.guard._cancel(mic)  # the residual, before the barge-in hold/gate


class New:
    name = "new (WebRTC AEC3)"

    def __init__(self, bypass: bool = False, **settings: bool) -> None:
        self.canceller = EchoCanceller(**settings)
        self.bypass = bypass  # the live default while nothing has played: raw microphone

    def step(self, reference: np.ndarray, mic: np.ndarray) -> np.ndarray:
        self.canceller.reverse(reference)
        return self.canceller.process(mic, bypass=self.bypass)


class Listened(New):
    name = "listener (linear filter, where ready)"

    def step(self, reference: np.ndarray, mic: np.ndarray) -> np.ndarray:
        out = super().step(reference, mic)
        linear = self.canceller.linear_output()
        return out if linear is None else linear


def run(model, reference: np.ndarray, mic: np.ndarray) -> tuple[np.ndarray, float]:
    """The model over the whole mix frame by frame; (output, CPU s per audio s)."""
    n = len(mic) - len(mic) % FRAME
    out = np.zeros(n, dtype=np.float32)
    start = time.process_time()
    for i in range(0, n, FRAME):
        out[i : i + FRAME] = model.step(reference[i : i + FRAME], mic[i : i + FRAME])
    return out, (time.process_time() - start) / (n / SAMPLE_RATE)


def transcribe(stt: SpeechToText, audio: np.ndarray) -> str:
    return stt.transcribe(audio.astype(np.float32)).text


def questions() -> list[tuple[str, str, np.ndarray]]:
    truth = json.loads((REAL / "utterances" / "truth.json").read_text())
    items = [
        ("real", truth[f]["text"], load_audio(REAL / "utterances" / f)) for f in REAL_QUESTIONS
    ]
    piper = TextToSpeech(TtsConfig(voice="piper:joe"), deterministic=True)
    assert piper.engine == "piper", piper.fallback
    items += [("piper", p, to16k(piper.synthesize(p) / 32768.0)) for p in DEFAULT_PHRASES]
    items += [("espeak-ng", p, to16k(speak(p))) for p in DEFAULT_PHRASES]
    pad = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    return [
        (family, text, at_level(np.concatenate((pad, a, pad)), VOICE_DBFS))
        for family, text, a in items
    ]


def echo_table(stt: SpeechToText, qs, question_at_s: float = QUESTION_AT_S) -> list[str]:
    replies = [to16k(compose(r)) for r in REPLIES]
    silence = {}
    for family, text, audio in qs:
        silence.setdefault(family, WordErrors(0, 0))
        silence[family] += word_errors(text, transcribe(stt, audio))
    lines = [
        "| room | model | ERLE dB | converged after s | CPU % of a core | "
        + " | ".join(f"WER {family} (silence)" for family in silence)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(silence),
    ]
    for room in ROOMS:
        for model_type in (Old, New, Listened):
            erles, convs, costs = [], [], []
            wer = {f: WordErrors(0, 0) for f in silence}
            for qi, (family, text, audio) in enumerate(qs):
                reply = replies[qi % len(replies)]
                echo = room.echo(reply)
                if qi < len(replies):  # ERLE and convergence on the reply alone
                    out, cost = run(model_type(), reply, echo)
                    erle, conv = erle_and_convergence(echo, out)
                    erles.append(erle)
                    convs.append(conv)
                    costs.append(cost)
                mic = echo.copy()
                at = int(question_at_s * SAMPLE_RATE)
                mic[at : at + len(audio)] += audio
                out, _ = run(model_type(), reply, mic)
                heard = out[at : at + len(audio) + SAMPLE_RATE // 4]
                wer[family] += word_errors(text, transcribe(stt, heard))
            conv = "never" if None in convs else f"{max(convs):.2f}"
            lines.append(
                f"| {room.name} | {model_type.name} | {min(erles):.1f} | {conv} | "
                f"{100 * statistics.median(costs):.1f} | "
                + " | ".join(
                    f"{100 * wer[f].rate:.0f} % ({100 * silence[f].rate:.0f} %)" for f in silence
                )
                + " |"
            )
            print(lines[-1], flush=True)
    return lines


IDLE_SETTINGS = {
    "no module": None,
    "AEC + NS, always": {"noise_suppression": True},
    "AEC + NS, raw while idle (default)": {"noise_suppression": True, "bypass": True},
}


def noise_table(stt: SpeechToText, qs, settings=None) -> list[str]:
    settings = settings or {
        "no module": None,
        "AEC only": {},
        "AEC + NS": {"noise_suppression": True},
        "AEC + HPF": {"high_pass_filter": True},
        "AEC + AGC": {"auto_gain_control": True},
        "AEC + NS + AGC": {"noise_suppression": True, "auto_gain_control": True},
    }
    real = [(text, audio) for family, text, audio in qs if family == "real"]
    lines = [
        "| SNR | " + " | ".join(settings) + " |",
        "|---|" + "---|" * len(settings),
    ]
    noises = [load_audio(REAL / "noise" / n) for n in NOISES]
    for snr in (10, 5):
        cells = []
        for setting in settings.values():
            errors = WordErrors(0, 0)
            for ni, noise in enumerate(noises):
                for qi, (text, audio) in enumerate(real):
                    offset = (qi * 7919 + ni * 104729) % max(1, len(noise) - len(audio))
                    piece = noise[offset : offset + len(audio)]
                    piece = np.resize(piece, len(audio)) if len(piece) < len(audio) else piece
                    mix = audio + at_level(piece, VOICE_DBFS - snr)
                    if setting is not None:
                        mix, _ = run(New(**setting), np.zeros_like(mix), mix)
                    errors += word_errors(text, transcribe(stt, mix))
            cells.append(f"{100 * errors.rate:.1f} %")
        lines.append(f"| {snr} dB | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "ECHO.md")
    parser.add_argument("--part", choices=("all", "echo", "noise", "idle"), default="all")
    parser.add_argument(
        "--question-at",
        type=float,
        default=QUESTION_AT_S,
        help="seconds into the reply the question starts (the linear filter learns for longer)",
    )
    args = parser.parse_args()
    stt = SpeechToText(Config().stt)
    qs = questions()
    if args.part == "idle":  # the module with nothing played: always on, or raw while idle
        print("\n".join(noise_table(stt, qs, IDLE_SETTINGS)))
        return
    echo = echo_table(stt, qs, args.question_at) if args.part != "noise" else []
    noise = noise_table(stt, qs) if args.part != "echo" else []
    args.out.write_text(
        "\n".join(
            [
                "# Echo cancellation, measured offline (`benchmarks/echo_offline.py`)",
                "",
                *echo,
                "",
                "Noise: real utterances + `noise/` (kitchen, steady low-frequency, music), WER:",
                "",
                *noise,
                "",
            ]
        )
    )


if __name__ == "__main__":
    main()
