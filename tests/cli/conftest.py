"""Helpers for the CLI tests: tiny projects on disk and the `plumbline` command run in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lsp_server.cli import main

# A SQLAlchemy model that DB001 (no created_at) and DB003 (unindexed foreign key) flag on PostgreSQL.
ORDERS_MODEL = '''from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    created_at = Column(DateTime)
    updated_at = Column(DateTime)
'''
# The 1-based line of `customer_id` above, where DB003 stands.
ORDERS_FK_LINE = 17


@dataclass
class Outcome:
    code: int
    out: str
    err: str


Files = dict[str, str | bytes]


def write_files(root: Path, files: Files) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[Files], Path]:
    """A project folder (with a pyproject.toml, so it is a project root) holding `files`."""

    def make(files: Files) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        write_files(root, {"pyproject.toml": "[project]\nname = \"demo\"\n", **files})
        return root

    return make


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No colour or debug settings leak in from the developer's shell."""
    for name in ("FORCE_COLOR", "NO_COLOR", "PLUMBLINE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    """Run `plumbline ARGS` in-process from `cwd`, returning the exit status and both streams."""

    def run(*args: str, cwd: Path | None = None) -> Outcome:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
