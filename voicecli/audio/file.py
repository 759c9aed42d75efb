"""Read any audio file libsndfile decodes, as 16 kHz mono float32; write WAVs.

Why soundfile and not ``wave``: Python's ``wave`` rejects WAVE_FORMAT_EXTENSIBLE (24-bit,
multichannel) and float WAVs; libsndfile (bundled in the soundfile wheel) reads them all, plus
FLAC and OGG. Every failure becomes an ``AudioInputError`` (exit 3) with one clear line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voicecli.core.audio_format import SAMPLE_RATE
from voicecli.core.errors import AudioInputError


def resample(audio: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """High-quality resampling (soxr) of a mono float32 signal."""
    if rate == target or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(audio, rate, target).astype(np.float32, copy=False)


def load_audio(path: str | Path) -> np.ndarray:
    """Decode ``path`` to 16 kHz mono float32 in [-1, 1]."""
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioInputError(f"{path}: no such file")
    if path.is_dir():
        raise AudioInputError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: the file is empty")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        detail = str(exc).split(":", 1)[-1].strip() or type(exc).__name__
        raise AudioInputError(f"{path}: not a readable audio file ({detail})") from None
    except OSError as exc:
        raise AudioInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data.shape[0] == 0:
        raise AudioInputError(f"{path}: contains no audio samples")
    if not np.isfinite(data).all():
        raise AudioInputError(f"{path}: contains invalid (NaN or infinite) samples")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return resample(mono, rate)


def to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def write_wav(path: str | Path, audio: np.ndarray, rate: int) -> None:
    """Write mono PCM (float32 or int16) as a 16-bit WAV."""
    import soundfile as sf

    pcm = audio if audio.dtype == np.int16 else to_int16(audio)
    sf.write(str(path), pcm, rate, subtype="PCM_16")
