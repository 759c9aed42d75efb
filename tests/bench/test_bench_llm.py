"""``voicecli bench --llm``: reply latency per backend, against a streaming OpenAI-compatible
server on 127.0.0.1 (the fake server of test_llm_openai), fed in real time like any bench."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from support.fake_llm import FakeLlm, http_error, llm_config, stream
from support.schema import report_schema

from voicecli.bench.corpus import LLM_PHRASES, default_corpus
from voicecli.bench.report import read_report
from voicecli.bench.run import run_utterance
from voicecli.bench.table import compare
from voicecli.cli.main import app
from voicecli.reply.llm import make_brain

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def llm_run(cli, tmp_path_factory) -> tuple:
    """The bundled LLM set's first two phrases (an open question, then the time) in real time."""
    path = tmp_path_factory.mktemp("bench-llm") / "report.json"
    with FakeLlm() as server:
        server.scripts.append(stream("Paris is the capital of France. ", "It is lovely.", gap=0.2))
        args = ["bench", "--llm-url", server.url, "--llm-model", "m1", "--limit", "2"]
        result = cli.invoke(app, [*args, "--no-warmup", "--report", str(path)])
    assert result.exit_code == 0, result.output
    return result.output, json.loads(path.read_text()), server.requests


@pytest.mark.slow
def test_llm_bench_reports_skills_and_openai_rows(llm_run):
    output, report, requests = llm_run
    jsonschema.validate(report, report_schema())
    assert report["version"] == 3
    assert report["config"]["corpus"] == "default-llm"
    assert report["config"]["llm"]["backend"] == "openai" and report["config"]["llm"]["model"]
    rows = report["summary"]["reply_by_backend"]
    heard = [(t["text"], t["backend"]) for u in report["utterances"] for t in u["turns"]]
    errors = [e for u in report["utterances"] for e in u["pipeline_errors"]]
    assert set(rows) == {"skills", "openai"}, (heard, errors)
    assert rows["skills"]["n"] == 1 and rows["skills"]["first_token_ms"] is None
    first_token = rows["openai"]["first_token_ms"]
    print(f"openai first token p50 {first_token['p50']} ms, skills reply {rows['skills']}")
    assert rows["openai"]["n"] == 1 and first_token["n"] == 1
    assert 0 < first_token["p50"] < 5000  # loopback: tens of ms when idle
    for label in rows:
        assert rows[label]["voice_to_voice_ms"]["p50"] > 0, label
    assert rows["openai"]["reply_ms"]["p50"] >= first_token["p50"]
    turns = [t for u in report["utterances"] for t in u["turns"]]
    assert [(t["backend"], t["first_token_ms"] is not None) for t in turns] == [
        ("openai", True),
        ("skills", False),
    ]
    assert len(requests) == 1 and requests[0]["model"] == "m1"  # the time never reached it
    question = requests[0]["messages"][-1]["content"].lower()
    # the open question reached the LLM; tiny.en has heard "capital of France" as
    # "capital and friends" in this synthetic voice, so only the topic word is required
    assert "capital" in question
    assert "Reply by backend" in output and "first token" in output


def test_the_llm_set_mixes_open_and_skill_questions():
    from voicecli.reply.brain import skill_answer
    from voicecli.reply.context import Conversation, SkillContext
    from voicecli.reply.skills import SKILLS

    answered = [
        skill_answer(SKILLS, q, SkillContext(Conversation())) is not None for q in LLM_PHRASES
    ]
    assert answered[0] is False  # an open question first: the warm-up warms the LLM
    assert 2 <= sum(answered) <= len(answered) - 2  # both rows appear
    items = default_corpus(2, llm=True)
    assert [(i.name, i.set, i.reference) for i in items] == [
        ("llm/01", "llm", LLM_PHRASES[0]),
        ("llm/02", "llm", LLM_PHRASES[1]),
    ]


@pytest.mark.slow
def test_a_failed_llm_turn_counts_for_the_backend_without_a_first_token(engines):
    with FakeLlm() as server:
        server.scripts.append(http_error(503, "overloaded"))
        config = llm_config(server)
        brain = make_brain(config)
        try:
            run = run_utterance(engines, config, default_corpus(1, llm=True)[0], brain=brain)
        finally:
            brain.close()
    assert [(t.backend, t.first_token_ms) for t in run.turns] == [("openai", None)]
    assert any(e.startswith("llm_http_error") for e in run.errors)


def test_compare_reads_version_1_and_flags_a_slower_first_token(llm_run, cli, tmp_path):
    _, report, _ = llm_run
    old = copy.deepcopy(report)
    old["version"] = 1
    del old["summary"]["reply_by_backend"]
    (tmp_path / "v1.json").write_text(json.dumps(old))
    assert read_report(tmp_path / "v1.json")["version"] == 1
    assert compare(old, report) == []  # a version 1 report has no per-backend rows
    slower = copy.deepcopy(report)
    first_token = slower["summary"]["reply_by_backend"]["openai"]["first_token_ms"]
    first_token["p50"] = 3 * first_token["p50"] + 100
    assert [r.metric for r in compare(report, slower)] == ["openai first_token_ms p50"]
    assert compare(slower, report) == []
    (tmp_path / "v4.json").write_text(json.dumps({**report, "version": 4}))
    result = cli.invoke(app, ["bench", "--compare", str(tmp_path / "v4.json")])
    assert result.exit_code == 2
    assert "report version 4, this voicecli reads versions 1, 2, 3" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--llm", "bogus"], "unknown LLM backend 'bogus'"),
        (["--llm", "openai"], "needs a URL"),
        (["--llm-url", "ftp://example.com/v1"], "not an http(s) URL"),
        (["--thermal", "--llm", "local"], "do not go with --thermal"),
    ],
)
def test_bad_llm_options_are_usage_errors(cli, args, message):
    result = cli.invoke(app, ["bench", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
