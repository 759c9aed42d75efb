"""``voicecli bench --wake``: the statistics it reports and a run on a few real recordings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.cli import voicecli

from voicecli.bench.wake_bench import poisson_upper
from voicecli.bench.wake_corpus import mix


@pytest.mark.parametrize(("count", "bound"), [(0, 2.996), (1, 4.744), (5, 10.513)])
def test_poisson_upper_bound(count, bound):
    assert poisson_upper(count) == pytest.approx(bound, abs=0.01)


def test_mix_puts_the_noise_10_db_below_the_speech():
    rng = np.random.default_rng(1)
    speech = (0.3 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    noise = rng.standard_normal(4000).astype(np.float32)  # shorter: looped
    mixed = mix(speech, noise, 10.0)
    residual = mixed - speech
    assert 10 * np.log10(np.mean(speech**2) / np.mean(residual**2)) == pytest.approx(10, abs=0.1)


def test_wake_bench_needs_the_real_recordings(tmp_path):
    assert voicecli("bench", "--wake").returncode == 2
    done = voicecli("bench", "--wake", "--corpus", str(tmp_path))
    assert done.returncode == 2 and "utterances/" in done.stderr


def test_wake_bench_on_a_few_real_recordings(tmp_path, shared_audio):
    """okay_nabu only (``wake.word``), on 3 real clips and one noise: every section is there,
    the clean espeak-ng positives wake it, the real speech does not."""
    real = shared_audio / "real"
    corpus = tmp_path / "real"
    for folder, names in {
        "utterances": ["truth.json", "wwb_jarvis_008a6329.flac", "fsdd_0_george_0.flac"],
        "turns": ["0075d273-51bb-47cb-b323-4437bd0de029.flac"],
        "noise": ["stationary_lowfreq.flac"],
    }.items():
        (corpus / folder).mkdir(parents=True)
        for name in names:
            (corpus / folder / name).symlink_to(real / folder / name)
    report = tmp_path / "wake.json"
    done = voicecli(
        "bench", "--wake", "--corpus", str(corpus), "--report", str(report),
        env={"VOICECLI_WAKE_WORD": "okay_nabu", "COLUMNS": "160"}, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "okay_nabu (cutoff 0.85" in done.stdout
    data = json.loads(report.read_text())
    assert list(data["words"]) == ["okay_nabu"]
    word = data["words"]["okay_nabu"]
    positives = {(row["family"], row["group"]): row for row in word["positives"]}
    clean, noisy = positives["espeak-ng", "clean"], positives["espeak-ng", "noisy"]
    assert clean["n"] == 18 and clean["rate"] == 1.0
    assert noisy["n"] == 18  # one noise recording mixed into each
    families = {family for family, _ in positives}
    assert families | set(data["config"]["families_pending"]) == {"espeak-ng", "neural"}
    negatives = {row["group"]: row for row in word["negatives"]}
    assert set(negatives) == {
        "all", "generated_speech", "near_miss_generated", "near_miss_real", "real_noise",
        "real_speech",
    }  # fmt: skip
    assert negatives["near_miss_real"]["clips"] == 1
    assert negatives["real_speech"]["false_accepts"] == 0
    assert negatives["real_speech"]["per_hour_upper95"] > 0  # no accept still bounds the rate
    assert 0 < word["cpu_percent"] < 5
    assert [s["cutoff"] for s in word["sweep"]][-1] == 0.97
