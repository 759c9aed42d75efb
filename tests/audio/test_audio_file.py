"""Audio files: anything libsndfile decodes becomes 16 kHz mono; bad files fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voicecli.audio.file import load_audio
from voicecli.core.errors import AudioInputError


def _tone(rate: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


@pytest.mark.parametrize(
    "rate, channels, subtype, fmt",
    [
        (8000, 2, "PCM_24", "WAVEX"),  # 24-bit WAVE_FORMAT_EXTENSIBLE, stereo, 8 kHz
        (44100, 1, "FLOAT", "WAV"),
        (22050, 1, "PCM_16", "FLAC"),
        (48000, 2, "VORBIS", "OGG"),
        (11025, 6, "PCM_U8", "WAV"),
    ],
)
def test_formats_are_converted_to_16k_mono(tmp_path, rate, channels, subtype, fmt):
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(str(path), _tone(rate, 1.0, channels), rate, subtype=subtype, format=fmt)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 16000) < 200
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16000 / len(audio) - 440) < 10


def test_wavex_header_is_really_extensible(tmp_path):
    path = tmp_path / "x.wav"
    sf.write(str(path), _tone(8000, 0.2, 2), 8000, subtype="PCM_24", format="WAVEX")
    assert path.read_bytes()[20:22] == b"\xfe\xff"  # WAVE_FORMAT_EXTENSIBLE (65534)
    assert len(load_audio(path)) > 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"this is not audio at all" * 10), "not a readable audio file"),
        (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "not a readable audio file"),
        (lambda p: p.mkdir(), "directory"),
    ],
    ids=["missing", "empty", "garbage", "truncated-header", "directory"],
)
def test_bad_files_raise_clear_errors(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioInputError, match=message) as info:
        load_audio(path)
    assert "\n" not in str(info.value)


def test_header_only_wav_has_no_samples(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(str(path), np.zeros(0), 16000)
    with pytest.raises(AudioInputError, match="no audio samples"):
        load_audio(path)
