"""The event JSON schema, read from docs/events.md (the single reference)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


@cache
def events_schema() -> dict:
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    section = text.split("## JSON schema", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    return json.loads(block)


def validate_event(data: dict) -> None:
    import jsonschema

    jsonschema.validate(data, events_schema())


@cache
def report_schema() -> dict:
    """The bench report's JSON schema, read from docs/bench.md."""
    text = (DOCS / "bench.md").read_text(encoding="utf-8")
    section = text.split("## JSON schema", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


@cache
def turns_report_schema() -> dict:
    """The ``bench --turns`` report's JSON schema, read from docs/bench.md."""
    text = (DOCS / "bench.md").read_text(encoding="utf-8")
    section = text.split("## Turn-taking JSON schema", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
