"""The Smart Turn model: loading (checksum), features, scores on real speech, and what happens
when it is missing (rules alone, said once) or damaged (exit 5)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.cli import voicecli
from support.pipeline import of_type, run_pipeline

from voicecli.audio.file import load_audio, write_wav
from voicecli.core import catalogue
from voicecli.core.config import Config
from voicecli.core.errors import ExitStatus
from voicecli.listen.turn_model import FRAMES, TurnModel, TurnModelError, features
from voicecli.pipeline.pipeline import Engines
from voicecli.reply.synth import silence

# The real program with the pipecat-ai distribution hidden (as if never installed).
HIDE_PIPECAT = (
    "import importlib.metadata as m, sys\n"
    "real = m.distribution\n"
    "def hidden(name):\n"
    "    if name == 'pipecat-ai':\n"
    "        raise m.PackageNotFoundError(name)\n"
    "    return real(name)\n"
    "m.distribution = hidden\n"
    "from voicecli.cli.main import run\n"
    "sys.argv = ['voicecli', *sys.argv[1:]]\n"
    "run()\n"
)


@pytest.fixture(scope="module")
def model() -> TurnModel:
    return TurnModel.load()


def test_the_catalogue_entry_is_found_and_its_checksum_checked(model):
    entry = catalogue.default("turn")
    assert entry.id == "smart-turn-v3.2" and len(entry.sha256) == 64
    assert model.path == entry.location() and model.path.name == "smart-turn-v3.2-cpu.onnx"
    options = model.session.get_session_options()
    assert options.intra_op_num_threads == 1


def test_features_are_the_last_8_s_padded_at_the_front(model):
    short = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    feats = features(short, model.extractor)
    assert feats.shape == (1, 80, FRAMES) and feats.dtype == np.float32
    # the zero padding in front is constant in time, the sound at the end is not
    assert np.ptp(feats[0, :, :600], axis=1).max() < 1e-3 < np.ptp(feats[0, :, -100:], axis=1).max()
    long = np.concatenate([np.ones(16000 * 4, np.float32), short.repeat(8)])
    np.testing.assert_allclose(
        features(long, model.extractor), features(short.repeat(8), model.extractor), atol=1e-5
    )


def test_a_finished_real_command_scores_higher_than_its_cut_first_half(model, shared_audio):
    audio = load_audio(shared_audio / "real" / "utterances" / "ps_goforward.flac")
    words = np.flatnonzero(np.abs(audio) > 0.05)
    whole = model.score(np.concatenate([audio[: words[-1]], silence(0.1)]))
    half = model.score(np.concatenate([audio[: len(audio) // 2], silence(0.1)]))
    assert 0.0 <= half.probability < whole.probability <= 1.0
    assert whole.probability > 0.5 and whole.compute_ms > 0


def test_a_damaged_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "smart-turn.onnx"
    bad.write_bytes(b"not an onnx model" * 100)
    with pytest.raises(TurnModelError, match="cannot be loaded"):
        TurnModel(bad)
    with pytest.raises(TurnModelError, match="sha256 does not match") as caught:
        TurnModel(bad, catalogue.default("turn").sha256)
    assert caught.value.status == ExitStatus.MODEL_MISSING


def test_a_damaged_model_file_exits_5_with_one_line(tmp_path, monkeypatch):
    """The real program with the catalogue's file replaced by garbage (copied site dir)."""
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    prelude = (
        "import sys, pathlib\n"
        "from voicecli.core import catalogue\n"
        "real = catalogue.ModelEntry.location\n"
        f"bad = pathlib.Path({str(bad)!r})\n"
        "catalogue.ModelEntry.location = lambda e: bad if e.kind == 'turn' else real(e)\n"
        "from voicecli.cli.main import run\n"
        "sys.argv = ['voicecli', *sys.argv[1:]]\n"
        "run()\n"
    )
    done = voicecli_code(prelude, "bench", "--turns", "--fast", "--limit", "1")
    assert done.returncode == ExitStatus.MODEL_MISSING, done.stderr
    assert "turn model" in done.stderr and "damaged" in done.stderr
    assert "Traceback" not in done.stderr


def voicecli_code(code: str, *args: str):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_doctor_says_in_one_line_that_the_turn_model_is_missing():
    done = voicecli_code(HIDE_PIPECAT, "doctor")
    lines = [line for line in done.stdout.splitlines() if "turn model" in line]
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith("missing") and "rules alone" in lines[0]
    assert "pip install --no-deps pipecat-ai==1.14.0" in lines[0]
    assert done.returncode in (ExitStatus.OK, ExitStatus.RUNTIME_FAILURE)  # not a model exit
    assert voicecli("doctor").stdout.count("turn model smart-turn-v3.2: found") == 1


def test_without_the_model_turns_use_the_rules_and_one_warning_says_so(tmp_path, shared_audio):
    audio = load_audio(shared_audio / "real" / "utterances" / "ps_goforward.flac")
    path = tmp_path / "two.wav"
    write_wav(path, np.concatenate([silence(0.5), audio, silence(2.0), audio, silence(2.0)]), 16000)
    done = voicecli_code(HIDE_PIPECAT, "chat", "--input", str(path), "--fast", "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    warnings = [e for e in events if e["type"] == "warning" and e["code"] == "turn_model_missing"]
    assert len(warnings) == 1
    metrics = [e for e in events if e["type"] == "turn_metrics"]
    assert len(metrics) == 2
    assert all(m["turn_source"] == "rule" and m["turn_probability"] is None for m in metrics)


def test_with_the_model_the_combined_detector_runs_it(engines, shared_audio, model):
    audio = load_audio(shared_audio / "real" / "utterances" / "ps_goforward.flac")
    with_model = Engines(stt=engines.stt, tts=engines.tts, turn_model=model)
    _, events = run_pipeline(with_model, np.concatenate([silence(0.5), audio, silence(2.0)]))
    (metrics,) = of_type(events, "turn_metrics")
    assert metrics.turn_source in ("model", "both") and metrics.turn_probability > 0.5
    assert not of_type(events, "warning")
    config = Config()
    config.turn.detector = "rules"
    _, events = run_pipeline(with_model, audio, config=config)
    (metrics,) = of_type(events, "turn_metrics")
    assert (metrics.turn_source, metrics.turn_probability) == ("rule", None)


def test_under_heat_the_model_scores_once_per_pause_or_not_at_all(model, shared_audio):
    from voicecli.bench.turns import TimedTurnModel
    from voicecli.core.config import TurnConfig
    from voicecli.listen.turn import TurnJudge
    from voicecli.thermal.protection import ThermalProtection

    folder = shared_audio / "real" / "utterances"
    whole = load_audio(folder / "ps_goforward.flac")
    # a lone "four" this speaker says with a rise: the model keeps saying "unfinished"
    audio = np.concatenate([silence(0.5), load_audio(folder / "fsdd_4_jackson_39.flac")])
    assert model.score(audio).probability < TurnConfig().model_threshold
    protection = ThermalProtection()
    timed = TimedTurnModel(model)
    judge = TurnJudge(TurnConfig(), timed)

    def pause() -> int:
        before = len(timed.ms)
        judge.silence_began(audio, 0.064)
        for step in (1, 2, 3):  # then once every model_interval_s of silence
            judge.during_silence(audio, 0.064 + step * TurnConfig().model_interval_s)
        judge.speech_resumed()
        return len(timed.ms) - before

    assert pause() == 4  # cool: every model_interval_s while it says "unfinished"
    judge.silence_began(whole, 0.064)
    judge.during_silence(whole, 1.0)  # "complete" the first time: not scored again
    judge.speech_resumed()
    assert len(timed.ms) == 5
    protection.engage(90.0, 80.0)
    judge.apply_thermal(protection)
    assert pause() == 1
    judge.config = TurnConfig(model_when_hot=False)
    judge.apply_thermal(protection)
    assert pause() == 0 and judge.plan("go forward").source == "rule"
    protection.release()
    judge.apply_thermal(protection)
    assert pause() == 4


def test_the_detector_setting_chooses_whether_the_model_loads():
    from voicecli.core.config import TurnConfig
    from voicecli.core.errors import UsageError
    from voicecli.listen.turn_model import load_turn_model

    assert load_turn_model(TurnConfig(detector="rules")) is None
    assert isinstance(load_turn_model(TurnConfig(detector="model")), TurnModel)
    with pytest.raises(UsageError, match="turn.detector must be one of rules, model, combined"):
        load_turn_model(TurnConfig(detector="magic"))
