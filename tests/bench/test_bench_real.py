"""``voicecli bench`` on the real recordings as they come: a truth.json corpus and --noise.

Recordings: ../shared/audio/real (Free Spoken Digit Dataset CC BY-SA 4.0; Picovoice
speech-to-intent-benchmark and koala, Apache-2.0; iver56/audiomentations, MIT; see its README).
A subset keeps it fast: the first 3 utterances (spoken digits) and the first 3 noise files,
with the recognition prompt on (so ``transcribe()`` runs plain and with the same prompt).
"""

from __future__ import annotations

import json

import jsonschema
from support.schema import report_schema

from voicecli.bench.corpus import load_corpus, load_noise
from voicecli.cli.main import app


def test_truth_json_corpus_is_read_with_sets_and_speakers(shared_audio):
    items = load_corpus(shared_audio / "real" / "utterances")
    assert len(items) == 63
    by_name = {i.name: i for i in items}
    digit = by_name["fsdd_0_george_0.flac"]
    assert (digit.reference, digit.set, digit.speaker) == ("zero", "word", "fsdd_george")
    assert {i.set for i in items} == {"word", "command", "wake_word"}
    noise = load_noise(shared_audio / "real" / "noise")
    assert len(noise) == 5 and all(i.is_noise and i.reference == "" for i in noise)


def test_bench_real_utterances_with_baseline_and_noise(cli, shared_audio, tmp_path):
    real = shared_audio / "real"
    report_path = tmp_path / "bench.json"
    args = ["bench", "--corpus", str(real / "utterances"), "--limit", "3", "--baseline"]
    args += ["--noise", str(real / "noise"), "--no-warmup", "--report", str(report_path)]
    args += ["--bias", "skills"]  # and transcribe() once more with the pipeline's prompt
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "False transcripts on noise" in result.output
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, report_schema())
    summary = report["summary"]
    assert summary["utterances"] == 3  # the noise files are counted apart
    assert summary["wer"]["words"] == {"all": 3, "word": 3}
    assert summary["baseline"]["wer"]["words"]["all"] == 3
    prompted = summary["baseline"]["prompted"]
    assert prompted["wer"]["words"]["all"] == 3 and prompted["stt_compute_ms"]["n"] == 3
    assert "times" in prompted["prompt"] and "transcribe() + prompt" in result.output
    turn = report["utterances"][0]["turns"][0]
    assert turn["baseline_prompted"]["stt_compute_ms"] > 0, turn
    noise = summary["noise"]
    assert noise["files"] == 3 and noise["minutes"] > 2  # hens, kitchen, music
    assert noise["false_transcripts"] == 0, noise["texts"]
    assert noise["baseline"] is not None
