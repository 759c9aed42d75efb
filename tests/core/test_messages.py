"""The stages hand each other typed messages only, and every event type is registered in one
place: checked on the types and on the source of every module that passes stage traffic."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

import voicecli
from voicecli.core import events, messages

PACKAGE = Path(voicecli.__file__).parent
# Every module that puts on or takes from a queue between stages.
STAGE_MODULES = (
    "audio/source.py",
    "audio/stdin_source.py",
    "audio/mic.py",
    "server/bridge.py",
    "listen/listener.py",
    "listen/stt_worker.py",
    "reply/responder.py",
    "pipeline/pipeline.py",
    "pipeline/live.py",
)
INSIDE_A_STAGE = {"RawBlock"}  # the microphone's PortAudio blocks, inside the source stage
MESSAGE_NAMES = {
    name for name, value in vars(messages).items() if dataclasses.is_dataclass(value)
} | {"SourceMessage", "ListenerMessage", "ResponderMessage"}


def tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / module).read_text(), module)


@pytest.mark.parametrize("union", ["SourceMessage", "ListenerMessage", "ResponderMessage"])
def test_each_queue_type_is_a_union_of_frozen_dataclasses(union):
    members = typing.get_args(getattr(messages, union))
    assert members
    for member in members:
        assert dataclasses.is_dataclass(member) and member.__dataclass_params__.frozen
        assert member is not type(None) and "__call__" not in vars(member)  # no callable


def test_every_message_is_frozen():
    for name in MESSAGE_NAMES - {"SourceMessage", "ListenerMessage", "ResponderMessage"}:
        cls = getattr(messages, name)
        assert cls.__dataclass_params__.frozen, name
        for field in dataclasses.fields(cls):
            assert "Callable" not in str(field.type), f"{name}.{field.name} carries a callable"


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_no_callable_or_none_dispatch_on_stage_queues(module):
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Call):
            func = node.func
            assert not (isinstance(func, ast.Name) and func.id == "callable"), (
                f"{module}:{node.lineno}: callable() dispatch"
            )
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("put", "put_nowait", "put_blocking"):
                for arg in node.args:
                    assert not (isinstance(arg, ast.Constant) and arg.value is None), (
                        f"{module}:{node.lineno}: None put on a queue"
                    )
                    assert not (isinstance(arg, ast.Name) and arg.id.isupper()), (
                        f"{module}:{node.lineno}: a sentinel put on a queue"
                    )


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_stage_queues_are_typed_with_messages(module):
    """Every ``Queue[...]`` in a stage module names messages (or raw client bytes)."""
    found = 0
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("queue.Queue", "Queue"):
            found += 1
            names = {n.id for n in ast.walk(node.slice) if isinstance(n, ast.Name)}
            assert names and names <= MESSAGE_NAMES | INSIDE_A_STAGE | {"bytes"}, (
                f"{module}:{node.lineno}: {ast.unparse(node)}"
            )
    untyped = [
        n.lineno
        for n in ast.walk(tree(module))
        if isinstance(n, ast.AnnAssign | ast.arg)
        and n.annotation is not None
        and ast.unparse(n.annotation) in ("queue.Queue", "Queue")
    ]
    assert not untyped, f"{module}: untyped queue at lines {untyped}"
    assert found or module in ("pipeline/live.py", "listen/stt_worker.py")  # ReplyTo


def test_every_event_class_is_defined_and_registered_in_core_events():
    defined = [
        value
        for value in vars(events).values()
        if isinstance(value, type) and issubclass(value, events.Event) and value is not events.Event
    ]
    assert {cls.type for cls in defined} == set(events.EVENT_TYPES)
    assert {"level", "mic", "barge_in", "echo", "timer", "thermal", "wake", "wake_state"} <= set(
        events.EVENT_TYPES
    )
    for path in PACKAGE.rglob("*.py"):
        if path.name == "events.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                assert not bases & {"Event", "events.Event"}, f"{path}: {node.name} defined here"
