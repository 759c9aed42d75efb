"""Import direction: a module imports only from its own package or one below it, and no two
modules import each other, directly or round a loop (imports inside functions count too: they
run sooner or later). The order is the architecture's (docs/architecture.md):

    core < thermal < audio < listen < reply < pipeline < server < bench < cli

``voicecli/__init__.py`` (the version) and ``voicecli.data`` (files, no code) sit below
everything, ``__main__`` above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import voicecli

LAYERS = ("core", "thermal", "audio", "listen", "reply", "pipeline", "server", "bench", "cli")
PACKAGE = Path(voicecli.__file__).parent
BELOW = ("data",)  # packages of files that everyone may read


def module_names(root: Path) -> dict[str, Path]:
    """Every module below ``root`` (a package directory) by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports anywhere in its body (``from package import
    submodule`` counts as importing the submodule)."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    return {target for target in targets if target in modules and target != name}


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = module_names(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def rank(module: str) -> int:
    """Position in LAYERS; the root package and BELOW below all, ``__main__`` above all."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in BELOW:
        return -1
    if parts[1] == "__main__":
        return len(LAYERS)
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module}: package {parts[1]!r} has no place in {LAYERS}")
    return LAYERS.index(parts[1])


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if rank(target) > rank(module)
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_only_point_down():
    assert upward_imports(import_graph(PACKAGE)) == []


def test_no_import_cycle():
    assert cycles(import_graph(PACKAGE)) == []


def test_every_module_has_a_place():
    """``rank`` refuses a package outside the order; and every layer exists."""
    ranks = {rank(module) for module in import_graph(PACKAGE)}
    assert sorted(ranks) == list(range(-1, len(LAYERS) + 1))


def plant(root: Path, files: dict[str, str]) -> Path:
    """A package tree ``voicecli/`` under ``root`` holding ``files`` (path: source)."""
    for relative, source in files.items():
        path = root / "voicecli" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / "voicecli"


def test_a_planted_upward_import_fails(tmp_path):
    package = plant(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/clock.py": "def now():\n    from voicecli.pipeline.run import go\n",
            "pipeline/__init__.py": "",
            "pipeline/run.py": "from ..core import clock\n\ndef go():\n    pass\n",
        },
    )
    graph = import_graph(package)
    assert graph["voicecli.pipeline.run"] == {"voicecli.core.clock"}  # relative import resolved
    assert upward_imports(graph) == ["voicecli.core.clock imports voicecli.pipeline.run"]
    assert cycles(graph) == [["voicecli.core.clock", "voicecli.pipeline.run"]]


def test_a_planted_cycle_within_a_package_fails(tmp_path):
    package = plant(
        tmp_path,
        {
            "__init__.py": "",
            "cli/__init__.py": "",
            "cli/app.py": "import typer\n\ndef register():\n    from voicecli.cli import chat\n",
            "cli/chat.py": "from voicecli.cli.app import app\n",
            "cli/main.py": "from voicecli.cli import app, chat\n",
        },
    )
    graph = import_graph(package)
    assert upward_imports(graph) == []
    assert cycles(graph) == [["voicecli.cli.app", "voicecli.cli.chat"]]


def test_a_package_outside_the_order_fails(tmp_path):
    package = plant(tmp_path, {"__init__.py": "", "extras/__init__.py": "", "extras/x.py": ""})
    try:
        upward_imports({"voicecli.extras.x": {"voicecli"}})
    except AssertionError as exc:
        assert "'extras' has no place" in str(exc)
    else:
        raise AssertionError("a package outside LAYERS passed")
    assert "voicecli.extras.x" in import_graph(package)
