"""A private PulseAudio daemon with virtual, real-time-paced devices for live-audio tests.

Why: CI has no sound card. Two null sinks stand in for the hardware: ``vspeaker`` is the default
playback device (what voicecli plays is recorded from ``vspeaker.monitor``) and ``vmicfeed``'s
monitor is the default microphone (``paplay --device=vmicfeed`` speaks into it). The daemon gets
its own XDG_RUNTIME_DIR and socket, logs to a file (a daemon holding a captured pipe makes
``subprocess.run(capture_output=True)`` hang), and is killed by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from voicecli.audio.file import write_wav
from voicecli.reply.numbers import words_to_digits

RATE = 16000
NEEDED = ("pulseaudio", "pactl", "paplay", "parecord")


class PulseDaemon:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.socket = run_dir / "native"
        self.log = run_dir / "pulse.log"
        self.proc: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(run_dir),
            "PULSE_SERVER": f"unix:{self.socket}",
        }

    def start(self) -> PulseDaemon:
        missing = [tool for tool in NEEDED if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(
                f"missing {', '.join(missing)}: apt-get install pulseaudio pulseaudio-utils"
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    "pulseaudio",
                    "-n",
                    "--daemonize=no",
                    "--exit-idle-time=-1",
                    "--use-pid-file=no",
                    "--disable-shm=yes",
                    f"--log-target=file:{self.log}",
                    "-L",
                    f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
                    "-L",
                    f"module-null-sink sink_name=vspeaker rate={RATE} channels=1",
                    "-L",
                    f"module-null-sink sink_name=vmicfeed rate={RATE} channels=1",
                ],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while self.pactl("info", check=False).returncode != 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"pulseaudio did not start; see {self.log}")
            time.sleep(0.1)
        self.pactl("set-default-sink", "vspeaker")
        self.pactl("set-default-source", "vmicfeed.monitor")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pactl", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
            check=check,
        )

    def loopback(self) -> str:
        """Send what the speaker plays into the microphone (an echo path); returns the module id.

        Both null sinks run on one clock, so the loopback's adaptive resampling is turned off
        (``adjust_time=0``): it would make the echo path wander, which a sound card's shared
        clock does not."""
        done = self.pactl(
            "load-module",
            "module-loopback",
            "source=vspeaker.monitor",
            "sink=vmicfeed",
            "latency_msec=60",
            "adjust_time=0",
        )
        return done.stdout.strip()

    def unload(self, module_id: str) -> None:
        self.pactl("unload-module", module_id)

    def play(self, wav: Path, device: str = "vmicfeed") -> subprocess.Popen:
        """Start speaking ``wav`` into the virtual microphone (real time), or playing it on
        another sink (``vspeaker``: as a second client of the speaker)."""
        return subprocess.Popen(
            ["paplay", f"--device={device}", str(wav)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def record_speaker(self, wav: Path) -> subprocess.Popen:
        """Start recording what the virtual speaker plays (stop it with ``stop_recording``)."""
        return subprocess.Popen(
            [
                "parecord",
                "--device=vspeaker.monitor",
                f"--rate={RATE}",
                "--channels=1",
                "--format=s16le",
                "--file-format=wav",
                str(wav),
            ],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@contextmanager
def speaker_recording(pulse, path):
    """Record the virtual speaker, with the speaker looped back into the microphone. The
    loopback also keeps the speaker's monitor running: an idle null sink's monitor sends
    nothing, and waking it up loses the first ~50 ms of what is played."""
    echo = pulse.loopback()
    recorder = pulse.record_speaker(path)
    try:
        deadline = time.monotonic() + 5
        while (not path.exists() or path.stat().st_size <= 44) and time.monotonic() < deadline:
            time.sleep(0.02)  # until parecord receives audio
        yield
    finally:
        stop_recording(recorder)
        pulse.unload(echo)


@contextmanager
def speaker_kept_awake(pulse, seconds: float = 120.0):
    """Silence played on the virtual speaker by another client: its monitor keeps sending, as
    a desktop's sound server does while anything plays. Hands-free voicecli stops its own
    stream while nothing plays, and an idle null sink's monitor loses the first few hundred ms
    of what wakes it (the chime)."""
    silence = pulse.run_dir / "speaker-silence.wav"
    write_wav(silence, np.zeros(int(seconds * RATE), np.float32), RATE)
    player = pulse.play(silence, device="vspeaker")
    try:
        yield
    finally:
        player.kill()
        player.wait(5)


def stop_recording(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # parecord finishes the WAV header on SIGINT
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def reinitialise_sounddevice() -> None:
    """PortAudio lists devices once: make it see the daemon started after the import."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


def click(seconds: float = 0.15, amplitude: float = 0.6) -> np.ndarray:
    """A short broadband burst (a knock, a click) at 16 kHz."""
    rng = np.random.default_rng(7)
    n = round(seconds * RATE)
    envelope = np.exp(-np.linspace(0, 4, n))
    return (rng.uniform(-1, 1, n) * envelope * amplitude).astype(np.float32)


def session_daemon(config) -> PulseDaemon:
    """The test session's daemon (the ``pulse`` fixture in tests/conftest.py), stopped by PID
    at the end; this process's environment points PortAudio at it."""
    daemon = PulseDaemon(Path(tempfile.mkdtemp(prefix="voicecli-pulse-"))).start()
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    os.environ["XDG_RUNTIME_DIR"] = str(daemon.run_dir)
    os.environ["PULSE_SERVER"] = daemon.env["PULSE_SERVER"]
    reinitialise_sounddevice()

    def cleanup() -> None:
        daemon.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(daemon.run_dir, ignore_errors=True)

    config.add_cleanup(cleanup)
    return daemon


class LiveRun:
    """A real pipeline on the virtual microphone and speaker, as ``voicecli chat`` builds it;
    collects every event. Use as a context manager."""

    def __init__(self, engines, pulse: PulseDaemon, **options) -> None:
        from voicecli.core.bus import EventBus
        from voicecli.core.config import Config
        from voicecli.pipeline.live import LiveAudio, LiveOptions
        from voicecli.pipeline.pipeline import Pipeline

        self.pulse = pulse
        self.bus = EventBus()
        self._sub = self.bus.subscribe(100_000, "test")
        self.events: list = []
        self.audio = LiveAudio(LiveOptions(**options), self.bus.publish)
        self.pipeline = Pipeline(
            config=Config(),
            engines=engines,
            source=self.audio.source,
            sink=self.audio.sink,
            bus=self.bus,
            system_interval_s=None,
        )
        self.audio.attach(self.pipeline)

    def __enter__(self) -> LiveRun:
        self.pipeline.start()
        self.wait_for(lambda e: e.type == "level", 10)  # the microphone is open
        return self

    def __exit__(self, *exc) -> None:
        assert self.pipeline.close(), "pipeline threads did not stop"

    def drain(self) -> None:
        while (event := self._sub.get(timeout=0)) is not None:
            self.events.append(event)

    def wait_for(self, predicate, timeout: float):
        """The first event (already seen or new) matching ``predicate``, or None."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self.drain()
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def settle(self, seconds: float) -> None:
        """Let the conversation run ``seconds`` more, collecting events."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.05)
        self.drain()

    def of_type(self, kind: str, **match) -> list:
        self.drain()
        return [
            e
            for e in self.events
            if e.type == kind and all(getattr(e, k) == v for k, v in match.items())
        ]

    def say(self, wav: Path) -> subprocess.Popen:
        return self.pulse.play(wav)


def own_voice_pauses(run: LiveRun) -> list:
    """The replies paused by the assistant's own voice, checked. On a quiet machine none
    pauses (0 of 20, benchmarks/DUPLEX.md). Loaded (CI, two workers), the canceller can leak
    and a reply paused on it ("Six." over "It's 12:56 PM.", "Yeah."): it must be taken for its
    echo and resumed, or for a backchannel and ignored, the reply playing on -- never
    answered or cut, and at most once in a run."""
    barge_ins = run.of_type("barge_in")
    why = (barge_ins, [(e.turn, e.state) for e in run.of_type("playback")])
    assert len(barge_ins) <= 1, why
    assert all(b.outcome in ("resumed", "ignored") for b in barge_ins), why
    assert len(run.of_type("playback", state="paused")) == len(barge_ins), why
    return barge_ins


def digits(text: str) -> str:
    """Lower case, numbers as digits, no punctuation: what the tests compare."""
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", words_to_digits(text.lower())).split())


def write_clips(folder: Path, clips: dict[str, np.ndarray], gain: float = 1.0) -> dict[str, Path]:
    """16 kHz WAV files of ``clips`` (scaled by ``gain``) for ``PulseDaemon.play``."""
    paths = {}
    for name, samples in clips.items():
        paths[name] = folder / f"{name}.wav"
        write_wav(paths[name], gain * samples, RATE)
    return paths
