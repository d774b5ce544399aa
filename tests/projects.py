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


def resolve_broken_project(root: Path, first: str, second: str) -> tuple[Workspace, list[str]]:
    """Two modules of broken code, the second importing the first every way, scanned and resolved: what
    hypothesis tests use to show a resolve step never fails on any shape of source."""
    (root / "app").mkdir()
    (root / "app" / "a.py").write_text(first)
    (root / "app" / "b.py").write_text("from app.a import *\nfrom app import a\n" + second)
    workspace = Workspace(root)
    workspace.scan()
    _, failures = workspace.resolve()
    return workspace, failures
