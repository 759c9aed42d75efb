"""The everyday conveniences: voices, say, --rate/--voice, config path/show, --input - (raw PCM
on stdin), --transcript, --linger at the end of a file -- in real subprocesses where it matters."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from support.cli import voicecli
from support.pulse import speaker_recording

from voicecli.audio.file import load_audio
from voicecli.audio.stdin_source import StdinSource
from voicecli.cli.transcript_log import TranscriptLog
from voicecli.core.audio_format import FRAME
from voicecli.core.errors import UsageError
from voicecli.core.events import Reply, Transcript
from voicecli.core.lifecycle import ManagedThread
from voicecli.core.messages import EndOfInput
from voicecli.reply.synth import compose


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


# -- voices, say, rate ---------------------------------------------------------------------
def test_voices_lists_gmw_en_us_and_filters():
    everything = voicecli("voices")
    assert everything.returncode == 0, everything.stderr
    lines = everything.stdout.splitlines()
    assert len(lines) > 50
    assert any(re.match(r"^\* piper:joe\s+en-us\s+.*63 MB, .*GPL-3\.0$", line) for line in lines)
    assert any(re.match(r"^  gmw/en-us\s+en-us\s+English \(America\)$", line) for line in lines)
    assert [line for line in lines if line.startswith("#")] == [
        "# Piper, neural (piper-tts GPL-3.0)",
        "# espeak-ng, formant (GPL-3.0; voice data shared, ~20 MB)",
    ]
    english = voicecli("voices", "en-us")
    assert english.returncode == 0
    ids = [line[2:].split()[0] for line in english.stdout.splitlines() if line[0] != "#"]
    assert ids == ["piper:joe", "gmw/en-us", "gmw/en-us-nyc"]
    none = voicecli("voices", "no-such-language")
    assert none.returncode == 2 and "no voice matches" in none.stderr


def test_say_hello_to_a_file_transcribes_back(engines, tmp_path):
    path = tmp_path / "x.wav"
    result = voicecli("say", "hello", "-o", str(path), no_portaudio=True)
    assert result.returncode == 0, result.stderr
    assert "speakers unavailable" in result.stderr and str(path) in result.stderr
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    assert words(engines.stt.transcribe(load_audio(path)).text) == "hello"


def test_say_without_speakers_or_file_exits_4():
    result = voicecli("say", "hello", no_portaudio=True)
    assert result.returncode == 4
    assert result.stderr.startswith("voicecli: error: PortAudio library not found")
    assert "-o FILE" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["say", "hi", "--voice", "nope", "-o", "x.wav"], "unknown voice 'nope'"),
        (["say", "hi", "--rate", "20", "-o", "x.wav"], "rate 20 is out of range"),
        (["say", "  ", "-o", "x.wav"], "nothing to say"),
        (["say", "hi", "-o", "/nonexistent/dir/x.wav"], "cannot write /nonexistent/dir/x.wav"),
        (["chat", "--demo", "--voice", "nope"], "unknown voice 'nope'"),
        (["chat", "--demo", "--linger", "-1"], "--linger must be 0 or more"),
    ],
)
def test_bad_tts_options_are_usage_errors(args, fragment):
    result = voicecli(*args, no_portaudio=True)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_rate_changes_the_duration(tmp_path):
    durations = {}
    for rate in (100, 300):
        path = tmp_path / f"rate{rate}.wav"
        sentence = "The quick brown fox jumps over the lazy dog."
        result = voicecli("say", sentence, "--rate", str(rate), "-o", str(path), no_portaudio=True)
        assert result.returncode == 0, result.stderr
        durations[rate] = sf.info(str(path)).duration
    assert durations[100] > 2.0 * durations[300], durations


def test_voice_flag_changes_the_voice(tmp_path):
    paths = [tmp_path / "us.wav", tmp_path / "nyc.wav"]
    for voice, path in zip(("gmw/en-us", "gmw/en-us-nyc"), paths, strict=True):
        result = voicecli(
            "say", "hello there", "--voice", voice, "-o", str(path), no_portaudio=True
        )
        assert result.returncode == 0, result.stderr
    us, nyc = (sf.read(str(p), dtype="int16")[0] for p in paths)
    assert len(us) != len(nyc) or not np.array_equal(us, nyc)


@pytest.mark.slow
def test_say_plays_on_the_speaker(engines, pulse, tmp_path):
    heard_path = tmp_path / "heard.wav"
    with speaker_recording(pulse, heard_path):
        result = voicecli("say", "Hello there.", env=pulse.env, timeout=60)
        time.sleep(0.3)
    # alsa-lib itself reports an underrun when a loaded machine starves the stream
    said = [line for line in result.stderr.splitlines() if "underrun occurred" not in line]
    assert result.returncode == 0 and said == [], result.stderr
    assert "hello" in words(engines.stt.transcribe(load_audio(heard_path)).text)


def test_importing_the_commands_does_not_import_sounddevice():
    code = "import sys, voicecli.cli.main; print('sounddevice' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


# -- config --------------------------------------------------------------------------------
def test_config_path_and_show_file_env_flag(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[tts]\nrate = 150\n\n[stt]\nbeam_size = 3\n")
    env = {k: None for k in os.environ if k.startswith("VOICECLI_")}
    env["VOICECLI_CONFIG"] = str(config)

    path = voicecli("config", "path", env=env)
    assert path.returncode == 0 and path.stdout.strip() == str(config)

    def shown(*args, extra=None):
        result = voicecli("config", "show", *args, env={**env, **(extra or {})})
        assert result.returncode == 0, result.stderr
        return {
            m[1]: (m[2], m[3])
            for m in re.finditer(r"^(\S+) = (.+?)\s+# (\w+)$", result.stdout, re.M)
        }

    from_file = shown()
    assert from_file["tts.rate"] == ("150", "file")
    assert from_file["stt.beam_size"] == ("3", "file")
    assert from_file["tts.voice"] == ('"piper:joe"', "default")
    from_env = shown(extra={"VOICECLI_TTS_RATE": "190"})
    assert from_env["tts.rate"] == ("190", "env") and from_env["stt.beam_size"] == ("3", "file")
    from_flag = shown("--set", "tts.rate=200", extra={"VOICECLI_TTS_RATE": "190"})
    assert from_flag["tts.rate"] == ("200", "flag")
    bad = voicecli("config", "show", "--set", "tts.speed=3", env=env)
    assert bad.returncode == 2 and "unknown setting 'tts.speed'" in bad.stderr
    secret = shown(extra={"VOICECLI_LLM_API_KEY": "sk-very-secret"})
    assert secret["llm.api_key"] == ('"(set, hidden)"', "env")


# -- stdin, transcript, linger -------------------------------------------------------------
@pytest.fixture(scope="module")
def conversation_audio(tmp_path_factory):
    """Spoken questions: a conversion, a timer that fires, a timer left running at the end."""
    folder = tmp_path_factory.mktemp("audio")
    audio = compose(
        0.5,
        "How many kilometers are in ten miles?",
        1.5,
        "Please set a timer for two seconds.",
        1.5,
        "Set a timer for five minutes.",
        0.5,
    )
    pcm = np.round(np.clip(audio, -1, 32767 / 32768) * 32768).astype("<i2")  # the same samples
    wav, raw = folder / "questions.wav", folder / "questions.raw"
    sf.write(str(wav), pcm, 16000, subtype="PCM_16")
    pcm.tofile(raw)
    return wav, raw


# espeak-ng (~3 ms a reply) keeps each reply ahead of the --fast listener's next turn, so event
# orders and timer counts are the same on every run; Piper's slower replies may lag.
ESPEAK = {"VOICECLI_TTS_VOICE": "espeak:gmw/en-us"}


def run_json(*args, stdin=None):
    result = voicecli("chat", "--fast", "--json", "--linger", "1", *args, stdin=stdin, env=ESPEAK)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def said(events: list) -> list:
    return [
        (e["type"], e["text"])
        for e in events
        if e["type"] in ("transcript", "reply") and e["final"]
    ]


@pytest.mark.slow
def test_stdin_pcm_gives_the_same_turns_as_the_file(conversation_audio, tmp_path):
    wav, raw = conversation_audio
    log = tmp_path / "conversation.txt"
    log.write_text("earlier line\n")
    from_file = run_json("--input", str(wav))
    with open(raw, "rb") as pcm:
        from_stdin = run_json("--input", "-", "--transcript", str(log), stdin=pcm)
    assert said(from_stdin) == said(from_file)
    assert ("reply", "10 miles is 16.1 kilometers.") in said(from_file)
    timers = [(e["label"], e["fired"], e["cancelled"]) for e in from_stdin if e["type"] == "timer"]
    assert ("2 second", True, False) in timers  # fired (during the file or the linger)
    assert timers[-1] == ("5 minute", False, True)  # due after --linger: reported cancelled
    assert said(from_stdin)[-1] == ("reply", "Timer set for 5 minutes.")

    lines = log.read_text().splitlines()
    assert lines[0] == "earlier line" and lines[1].startswith("# voicecli conversation, ")
    spoken = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ", "", line) for line in lines[2:]]
    assert len(spoken) == len(lines) - 2
    assert spoken[:2] == [
        "you: How many kilometers are in 10 miles?",
        "assistant: 10 miles is 16.1 kilometers.",
    ]
    assert "assistant: Your 2 second timer is done." in spoken
    assert spoken[-1] == "assistant: Timer set for 5 minutes."


@pytest.mark.slow
def test_plain_chat_reports_the_timer_left_running_as_cancelled(conversation_audio):
    wav, _ = conversation_audio
    start = time.monotonic()
    result = voicecli("chat", "--input", str(wav), "--fast", "--plain", "--linger", "0", env=ESPEAK)
    took = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert re.search(r"timer 5 minute: cancelled, 300 s left$", result.stdout, re.M)
    assert took < 60, took


def test_stdin_from_a_terminal_is_refused():
    main, other = os.openpty()
    try:
        with (
            open(other, "rb", buffering=0, closefd=False) as tty,
            pytest.raises(UsageError, match="not from a terminal"),
        ):
            StdinSource(tty)
    finally:
        os.close(main)
        os.close(other)


def read_all(source: StdinSource) -> list:
    out: queue.Queue = queue.Queue()
    thread = ManagedThread("source", source.run, out).start()
    assert thread.join(10)
    items = []
    while not out.empty():
        items.append(out.get())
    return items


def test_stdin_source_keeps_every_sample_and_pads_the_last_frame(tmp_path):
    samples = (np.arange(FRAME * 3 + 100) % 2000 - 1000).astype("<i2")
    raw = tmp_path / "pcm.raw"
    raw.write_bytes(samples.tobytes() + b"\x01")  # a stray odd byte at the end is ignored
    with open(raw, "rb") as stream:
        items = read_all(StdinSource(stream, realtime=False))
    assert isinstance(items[-1], EndOfInput)
    frames = items[:-1]
    assert len(frames) == 4 and all(len(f.samples) == FRAME for f in frames)
    got = np.concatenate([f.samples for f in frames])
    assert np.array_equal(np.round(got[: len(samples)] * 32768).astype(np.int16), samples)
    assert not got[len(samples) :].any()


def test_stdin_source_stops_promptly_while_the_writer_is_quiet():
    read_end, write_end = os.pipe()
    try:
        with open(read_end, "rb", buffering=0) as stream:
            out: queue.Queue = queue.Queue()
            thread = ManagedThread("source", StdinSource(stream).run, out).start()
            os.write(write_end, b"\x00\x01" * 100)  # less than a frame, then silence
            time.sleep(0.3)
            started = time.monotonic()
            assert thread.stop_and_join(2)
            assert time.monotonic() - started < 0.5
            assert out.empty()
    finally:
        os.close(write_end)


def test_transcript_log_writes_both_sides(tmp_path):
    path = tmp_path / "t.txt"
    log = TranscriptLog(path)
    log(Transcript(turn=1, text="What time is it?", final=False))
    log(Transcript(turn=1, text="What time is it?", final=True))
    log(Reply(turn=1, text="It's", final=False))
    log(Reply(turn=1, text="It's 4:07 PM.", final=True))
    log(Reply(turn=2, text="", final=True))  # "stop": nothing was said
    log.close()
    lines = path.read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in lines[1:]] == [
        "you: What time is it?",
        "assistant: It's 4:07 PM.",
    ]
    with pytest.raises(UsageError, match="cannot write transcript"):
        TranscriptLog(tmp_path / "missing" / "t.txt")
