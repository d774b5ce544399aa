"""Small on-disk projects for tests: write the files, scan them with the engine, return the model."""

from __future__ import annotations

import textwrap
from pathlib import Path

from analyzers.engine import Workspace
from analyzers.model import Project


def write(root: Path, files: dict[str, str], plumbline: str = "") -> None:
    """Write `files` (dedented) under `root`, with a pyproject.toml holding `[tool.plumbline]` + `plumbline`."""
    (root / "pyproject.toml").write_text(f"[tool.plumbline]\n{plumbline}\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def project_of(root: Path, files: dict[str, str]) -> Project:
    """The resolved model of a project made of `files`; resolve steps must not fail."""
    write(root, files)
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project
