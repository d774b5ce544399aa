"""Declared dependency floors: what `project.settings["dependency.<name>"]` says."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from analyzers.config import load_config
from analyzers.discovery import language_of
from analyzers.engine import Workspace
from analyzers.extractors import dependencies
from analyzers.facts import SourceFile
from analyzers.model import Project


@pytest.mark.parametrize(("specifier", "expected"), [
    ("~=0.0.46", (0, 0, 46)),
    (">=0.0.14,<0.0.45", (0, 0, 14)),
    ("==0.0.47", (0, 0, 47)),
    ("^0.0.46", (0, 0, 46)),
    (">0.0.44 ; python_version >= '3.10'", (0, 0, 44)),
    ("<0.1", None),
    ("", None),
])
def test_version_floor(specifier: str, expected: tuple[int, ...] | None) -> None:
    assert dependencies.version_floor(specifier) == expected


def floors(path: str, text: str) -> list[tuple[str, tuple[int, ...]]]:
    language = language_of(path)
    assert language == "text"
    found = dependencies.extract(SourceFile(path, language, textwrap.dedent(text).encode()))
    return [(floor.package, floor.version) for floor in found]


def test_pyproject_pep621_and_poetry() -> None:
    assert floors("pyproject.toml", """
        [project]
        dependencies = ["fastapi", "SQLModel>=0.0.45"]
        """) == [("sqlmodel", (0, 0, 45))]
    assert floors("pyproject.toml", """
        [tool.poetry.dependencies]
        python = "^3.11"
        sqlmodel = {version = "^0.0.22", extras = []}
        """) == [("sqlmodel", (0, 0, 22))]


def test_requirements_and_package_metadata() -> None:
    assert floors("requirements.txt", "sqlmodel==0.0.47  # pinned\nfastapi\n") == [("sqlmodel", (0, 0, 47))]
    assert floors("app-1.0.dist-info/METADATA", "Name: app\nRequires-Dist: sqlmodel~=0.0.46\n") == [
        ("sqlmodel", (0, 0, 46))]
    assert floors("PKG-INFO", "Requires-Dist: sqlmodel\n") == []


def test_only_top_level_package_metadata_is_read() -> None:
    """A vendored package's metadata names its own dependencies, not the project's."""
    assert language_of("vendor/x-1.0.dist-info/METADATA") is None
    assert language_of("pkg/PKG-INFO") is None
    assert language_of("docs/METADATA") is None


MODEL = """
    from datetime import datetime
    from sqlmodel import Field, SQLModel

    class Event(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        created_at: datetime
    """


def build(root: Path, files: dict[str, str]) -> Project:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


@pytest.mark.parametrize(("requirement", "expected"), [
    ('"sqlmodel>=0.0.45"', "DateTime(timezone=True)"),
    ('"sqlmodel>=0.0.14,<0.0.45"', "DateTime"),  # SQLModel's naive mapping before 0.0.45
    ('"sqlmodel"', "DateTime"),  # unknown: may be an older one
])
def test_sqlmodel_datetime_mapping_follows_the_declared_version(tmp_path: Path, requirement: str,
                                                                 expected: str) -> None:
    project = build(tmp_path, {
        "pyproject.toml": f"[project]\nname = 'x'\ndependencies = [{requirement}]\n", "app/models.py": MODEL})
    table = project.table("event")
    assert table is not None
    assert table.columns["created_at"].type == expected
