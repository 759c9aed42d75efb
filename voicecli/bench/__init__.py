"""``voicecli bench``: corpora, runs through the real pipeline, WER, reports and tables, and the
thermal benchmark."""
