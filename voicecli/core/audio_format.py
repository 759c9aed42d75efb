"""The audio formats the pipeline works in, named once.

Why one module: the listening rate and frame size are fixed by the models (Silero VAD and
Whisper take 16 kHz mono; Silero scores 512-sample frames), and every stage that counts
samples, frames or seconds must agree on them; replies are synthesised at one rate that sinks,
the speaker and the server resample from.
"""

from __future__ import annotations

SAMPLE_RATE = 16000  # Hz: what sources deliver and the listener, VAD and STT take
FRAME = 512  # samples per frame: 32 ms at 16 kHz, Silero's frame size
TTS_RATE = 22050  # Hz: the rate replies are synthesised at (espeak-ng's output rate)
