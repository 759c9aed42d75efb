"""``voicecli bench --turns``: the short CI run, its table, and its report against the schema."""

from __future__ import annotations

import json

import jsonschema
from support.schema import turns_report_schema

from voicecli.bench.turn_corpus import SYNTHETIC, discover, synthetic_corpus
from voicecli.cli.main import app
from voicecli.core.errors import ExitStatus


def test_bench_turns_short_run_reports_every_detector(cli, tmp_path):
    path = tmp_path / "turns.json"
    done = cli.invoke(app, ["bench", "--turns", "--fast", "--limit", "1", "--report", str(path)])
    assert done.exit_code == 0, done.output
    assert "turn-taking" in done.output and "combined" in done.output
    report = json.loads(path.read_text())
    jsonschema.validate(report, turns_report_schema())
    synthetic = report["sets"]["synthetic"]
    assert set(synthetic) == {"rules", "model", "combined"}
    true_turns = SYNTHETIC[0].count("|") + 1
    for detector, row in synthetic.items():
        assert row["recordings"] == 1 and row["true_turns"] == true_turns
        assert row["declared_turns"] - row["cutoffs"] + row["merges"] == true_turns
        assert row["turn_wait_ms"]["n"] == row["declared_turns"]
        assert sum(row["sources"].values()) == row["declared_turns"]
        assert (row["model_cpu_ms_per_turn"] > 0) == (detector != "rules")
    assert synthetic["rules"]["sources"]["rule"] == synthetic["rules"]["declared_turns"]
    assert not [r for r in report["runs"] if r["errors"]]


def test_turn_corpus_discovery_and_bad_paths(cli, tmp_path, shared_audio):
    found = discover(shared_audio / "real")
    sets = {item.set for item in found}
    assert sets == {"turns", "utterances"}
    assert sum(item.turns for item in found if item.set == "turns") == 20
    assert len(synthetic_corpus()) == len(SYNTHETIC)
    done = cli.invoke(app, ["bench", "--turns", "--corpus", str(tmp_path)])
    assert done.exit_code == ExitStatus.USAGE
    assert "no labels.json" in done.output
    done = cli.invoke(app, ["bench", "--turns", "--thermal"])
    assert done.exit_code == ExitStatus.USAGE
