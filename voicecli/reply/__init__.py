"""From a user turn to spoken audio: the responder stage, the brain with its skills and LLM
backends, timers, sentence cutting, speakable text and text-to-speech."""
