"""From speech to a user turn: the listener stage (VAD frames, speculative transcription, turn
detection), the STT model, its one worker and short-window decoding."""
