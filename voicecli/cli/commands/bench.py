"""``voicecli bench``: latency and accuracy of the real pipeline on a corpus fed in real time;
with ``--llm``, the reply latencies (first token, first audio) of each backend that answered.

Exit codes: 0 done; 1 ``--compare`` found a regression; 2 bad options or corpus; 3 an
unreadable audio file; 5 model missing. Report format: docs/bench.md.
"""

from __future__ import annotations

from pathlib import Path

import typer

from voicecli.cli import options
from voicecli.cli.app import app, handle_errors
from voicecli.core.errors import UsageError

REGRESSION_EXIT = 1


@app.command()
@handle_errors
def bench(
    corpus: Path | None = typer.Option(
        None,
        "--corpus",
        help="Folder of audio files with a .txt or truth.json reference (default: bundled).",
    ),
    noise: Path | None = typer.Option(
        None,
        "--noise",
        help="Folder of speech-free recordings: count false transcripts per minute of noise.",
    ),
    repeat: int = typer.Option(1, "--repeat", help="Run the corpus N times."),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N files."),
    baseline: bool = typer.Option(
        False,
        "--baseline",
        help="Also run WhisperModel.transcribe() (beam 5) on the same utterances.",
    ),
    report: Path | None = typer.Option(None, "--report", help="Write the JSON report here."),
    compare: Path | None = typer.Option(
        None, "--compare", help="An earlier --report: flag regressions (exit 1)."
    ),
    warmup: bool = typer.Option(True, "--warmup/--no-warmup", help="Run one utterance first."),
    tail_s: float = typer.Option(1.5, "--tail", help="Seconds of silence fed after each file."),
    model: options.Model = None,
    llm: options.Llm = None,
    llm_url: options.LlmUrl = None,
    llm_model: options.LlmModel = None,
    bias: options.Bias = None,
    thermal: bool = typer.Option(
        False, "--thermal", help="Loop the corpus for --duration next to the temperature."
    ),
    duration: str | None = typer.Option(
        None, "--duration", help="With --thermal: how long, e.g. 20s, 2m, 10m (default 10m)."
    ),
    load: int = typer.Option(0, "--load", help="With --thermal: N CPU-burning helper processes."),
    csv: Path | None = typer.Option(
        None, "--csv", help="With --thermal: write the samples and turns as CSV here."
    ),
    wake: bool = typer.Option(
        False,
        "--wake",
        help="Score the wake words: --corpus is the real recordings (utterances/, turns/, noise/).",
    ),
    turns: bool = typer.Option(
        False,
        "--turns",
        help="Turn-taking: cut-offs, merges and waits of rules/model/combined (docs/bench.md).",
    ),
    fast: bool = typer.Option(False, "--fast", help="With --turns: feed audio unpaced."),
    echo: bool = typer.Option(
        False,
        "--echo",
        help="The WebRTC echo canceller on offline room mixes: delay, ERLE, convergence, CPU.",
    ),
) -> None:
    """Measure each pipeline stage (p50/p95/p99), WER and resources on a speech corpus.

    With --llm: first token and first audio per backend (open and skill questions by default).

    With --thermal: latency against temperature, throttling and time (docs/thermal.md).

    With --wake: wake-word detection, false accepts per hour and CPU (docs/wake.md).

    With --echo: the echo canceller on offline room mixes (delay, ERLE, convergence, CPU).

    With --turns: the turn detectors on recordings with known turn counts (--corpus DIR: a
    folder with labels.json or truth.json, or holding such folders; plus synthetic ones)."""
    from voicecli.cli.assistant import assistant_config

    if wake:
        _wake(corpus, report)
        return
    if echo:
        _echo(report)
        return
    if repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    if tail_s < 0:
        raise UsageError("--tail must not be negative")
    settings = options.AssistantOptions(
        model=model, llm=llm, llm_url=llm_url, llm_model=llm_model, bias=bias
    )
    if turns:
        if thermal or repeat != 1 or baseline or compare is not None or llm is not None:
            raise UsageError(
                "--thermal, --repeat, --baseline, --compare and --llm do not go with --turns"
            )
        from voicecli.bench.turns_cli import run_command as run_turns
        from voicecli.core.config import load_config

        config = load_config(settings.flags()).config
        run_turns(config, corpus=corpus, limit=limit, report=report, fast=fast)
        return
    if fast:
        raise UsageError("--fast goes with --turns")
    if thermal:
        if repeat != 1 or baseline or compare is not None or noise is not None:
            raise UsageError("--repeat, --baseline, --compare, --noise do not go with --thermal")
        if llm is not None or llm_url is not None or llm_model is not None:
            raise UsageError("--llm, --llm-url and --llm-model do not go with --thermal")
        from voicecli.bench.thermal_cli import run_command
        from voicecli.core.config import load_config

        thermal_options = {"duration": duration, "load": load, "report": report, "csv": csv}
        run_command(
            load_config(settings.flags()),
            corpus=corpus,
            limit=limit,
            tail_s=tail_s,
            warmup=warmup,
            **thermal_options,
        )
        return
    if duration is not None or load or csv is not None:
        raise UsageError("--duration, --load and --csv go with --thermal")
    from voicecli.bench.report import read_report

    old = read_report(compare) if compare else None  # a bad --compare fails before the run
    plan = {"repeat": repeat, "limit": limit, "baseline": baseline, "warmup": warmup}
    result = _measure(assistant_config(settings), corpus, noise, **plan, tail_s=tail_s)
    if report:
        from voicecli.bench.report import write_report

        write_report(result, report)
    if old is not None:
        _compare(old, result, compare)


def _measure(config, corpus: Path | None, noise: Path | None, **plan) -> dict:
    """Run the corpus (and the ``noise`` recordings) through the real pipeline; the report,
    also printed as tables. ``--noise`` alone runs only the noise."""
    import resource

    from rich.console import Console

    from voicecli.bench.corpus import default_corpus, load_corpus, load_noise
    from voicecli.bench.report import Measurement, build_report
    from voicecli.bench.table import render
    from voicecli.cli.assistant import load_assistant
    from voicecli.reply.llm import backend_kind

    kind = backend_kind(config.llm)
    limit = plan["limit"]
    if corpus:
        items = load_corpus(corpus, limit)
    elif noise:
        items = []
    else:
        items = default_corpus(limit, llm=kind != "none")
    items += load_noise(noise, limit) if noise else []
    with load_assistant(config) as assistant:
        runs, vad_ms, wall_s, cpu_s = _run(assistant, items, **plan)
    measured = Measurement(
        vad_frame_ms=vad_ms,
        wall_s=wall_s,
        cpu_s=cpu_s,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        config={
            "corpus": _corpus_name(corpus, noise, kind),
            "model": config.stt.model,
            "beam_size": config.stt.beam_size,
            **plan,
            "realtime": True,
            "llm": _llm_settings(kind, config.llm),
        },
    )
    result = build_report(runs, measured)
    render(result, Console())
    return result


def _corpus_name(corpus: Path | None, noise: Path | None, kind: str) -> str:
    """What ``config.corpus`` records: the folder, "" for noise alone, or the bundled set."""
    if corpus:
        return str(corpus)
    if noise:
        return ""
    return "default-llm" if kind != "none" else "default"


def _compare(old: dict, result: dict, compare: Path) -> None:
    """Regressions against the ``--compare`` report: a table and exit 1, or a note."""
    from rich.console import Console

    from voicecli.bench.table import compare as find_regressions
    from voicecli.bench.table import regression_table

    if old["config"].get("corpus") != result["config"]["corpus"]:
        Console().print(
            f"note: {compare} was measured on the corpus {old['config'].get('corpus')!r}, "
            f"this run on {result['config']['corpus']!r}"
        )
    found = find_regressions(old, result)
    if found:
        Console().print(regression_table(found))
        raise typer.Exit(REGRESSION_EXIT)
    Console().print(f"no regression against {compare}")


def _run(assistant, items, *, repeat, limit, baseline, warmup, tail_s):
    """``run_corpus`` under a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from voicecli.bench.run import run_corpus

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("bench", total=len(items) * repeat)
        return run_corpus(
            assistant.engines,
            assistant.config,
            items,
            repeat=repeat,
            baseline=baseline,
            warmup=warmup,
            tail_s=tail_s,
            brain=assistant.brain,
            on_progress=lambda name: progress.update(task, advance=1, description=name),
        )


def _wake(corpus: Path | None, report: Path | None) -> None:
    from rich.console import Console

    from voicecli.bench.report import write_report
    from voicecli.bench.wake_bench import run_wake_bench
    from voicecli.bench.wake_table import render_wake
    from voicecli.core.config import load_config
    from voicecli.listen.wake import available

    if corpus is None:
        raise UsageError("--wake needs --corpus: the real recordings (utterances/, turns/, noise/)")
    ok, detail = available()
    if not ok:
        from voicecli.core.errors import ModelMissingError

        raise ModelMissingError(detail)
    err = Console(stderr=True)
    result = run_wake_bench(
        corpus, load_config().config.wake, progress=lambda w: err.print(f"scoring {w} ...")
    )
    render_wake(result, Console())
    if report:
        write_report(result, report)


def _echo(report: Path | None) -> None:
    """``--echo``: bench runs no speaker, so the canceller is measured on offline mixes."""
    from rich.console import Console

    from voicecli.audio.echo_canceller import EchoUnavailable, load_module
    from voicecli.bench.echo_mix import render_echo, run_echo_bench
    from voicecli.bench.report import write_report
    from voicecli.core.errors import ModelMissingError

    try:
        load_module()
    except EchoUnavailable as exc:
        raise ModelMissingError(str(exc)) from None
    result = run_echo_bench()
    render_echo(result, Console())
    if report:
        write_report(result, report)


def _llm_settings(kind: str, config) -> dict:
    """What the report records of the LLM (never the API key)."""
    model = config.model
    if kind == "local" and not model:
        from voicecli.core import catalogue

        model = catalogue.default("llm").id
    return {"backend": kind, "model": model, "url": config.url if kind == "openai" else ""}
