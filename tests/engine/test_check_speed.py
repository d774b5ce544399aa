"""What makes a check fast must not change what it finds: answers memoised within one check, helpers cached on
their arguments, cheap copies. And nothing one check learned may leak into the next after an edit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from analyzers.engine import Workspace
from analyzers.facts import FileFacts
from analyzers.model import (
    CallSite,
    Column,
    ForeignKey,
    Index,
    Location,
    Project,
    Span,
    Table,
    TableDeclaration,
    copied,
)
from analyzers.resolve import ModelBuilder
from analyzers.rules._http_rules import path_mentions
from analyzers.rules.srv004_mutating_endpoint_without_auth import DEFAULT_PUBLIC
from analyzers.rules.srv005_auth_endpoint_without_rate_limit import DEFAULT_PATHS

HERE = Location("m.py", Span.at(1, 0))


def mentions_word_by_word(path: str, words: Iterable[str]) -> str | None:
    """`path_mentions` as first written: every word tried against every segment."""
    wanted = [word.lower() for word in words]
    for part in [part for part in re.split(r"/+", path.lower()) if part]:
        if part.startswith("{") or part.startswith("<"):
            continue
        tokens = re.split(r"[-_.]", part)
        for word in wanted:
            if word in tokens or word + "s" in tokens or part == word:
                return word
            if "-" in word and word in part.replace("_", "-"):
                return word
            if len(tokens) == 1 and len(word) > 4 and "-" not in word and part.endswith(word):
                return word
    return None


def test_path_mentions_answers_as_trying_each_word_in_turn() -> None:
    paths = ["/auth/login/", "/{login}/x", "/<token>", "/users/resetPassword", "/auth/reset-password",
             "/auth/reset_password", "/api/v1/logins", "/webhooks/stripe", "/Sign-In", "/orders/{id}/confirm",
             "/tokens.json", "//health//", "/healthz", "/publicity", "/x/refresh_token", "/a.b-c_d/callback", ""]
    for words in (DEFAULT_PUBLIC, DEFAULT_PATHS, ["graphql"], ["Sign-In", "login", "LOGIN", "abcde"], []):
        for path in paths:
            assert path_mentions(path, words) == mentions_word_by_word(path, words), (path, words)


def test_copied_is_a_shallow_copy_with_every_field() -> None:
    column = Column("price", "Numeric(12, 2)", HERE, attributes={"type_from": "annotation"})
    table = Table("orders", columns={"price": column}, primary_key=("id",),
                  foreign_keys=[ForeignKey(("user_id",), "users")], indexes=[Index(("price",))])
    declaration = TableDeclaration("model", "sqlalchemy", HERE, class_name="Order", idiom={"style": "mapped"})
    for record in (column, table, declaration, table.foreign_keys[0], table.indexes[0]):
        fresh = copied(record)
        assert fresh == record and fresh is not record
        for item in fields(record):  # shallow: containers are shared, as with copy.copy
            assert getattr(fresh, item.name) is getattr(record, item.name)


def test_calls_of_keeps_the_project_order_across_kinds() -> None:
    project = Project(root=".")
    project.calls = [CallSite(kind, f"c{index}", HERE) for index, kind in enumerate("abcab")]
    assert [call.callee for call in project.calls_of("b", "a")] == ["c0", "c1", "c3", "c4"]
    assert [call.callee for call in project.calls_of("c")] == ["c2"]
    assert project.calls_of("missing") == []


def test_derived_computes_once_per_project() -> None:
    project = Project(root=".")
    computed: list[Project] = []

    def compute(of: Project) -> int:
        computed.append(of)
        return len(computed)

    assert project.derived("key", compute) == project.derived("key", compute) == 1
    assert Project(root=".").derived("key", compute) == 2  # another project, another answer


@dataclass(frozen=True)
class First:
    name: str


@dataclass(frozen=True)
class Second:
    name: str


def test_records_of_several_types_come_in_path_order() -> None:
    files = {
        "b.py": FileFacts("b.py", "python", "", records=[Second("b1"), First("b2")]),
        "a.py": FileFacts("a.py", "python", "", records=[First("a1"), Second("a2"), First("a3")]),
    }
    builder = ModelBuilder(root=".", files=files)
    assert [record.name for _, record in builder.records((First, Second))] == ["a1", "a2", "a3", "b1", "b2"]
    assert [record.name for _, record in builder.records(First)] == ["a1", "a3", "b2"]
    assert [facts.path for facts, _ in builder.records(Second)] == ["a.py", "b.py"]
    assert list(builder.records(str)) == []


MIXIN = '''from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), onupdate=func.now())
'''

MODEL = '''from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base, TimestampMixin


class Order(TimestampMixin, Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
'''


def findings(workspace: Workspace) -> list[tuple[str, str, str]]:
    return [(finding.code, finding.location.path, finding.message) for finding in workspace.check(fresh=True)
            .all_findings()]


def test_a_check_after_an_edit_equals_a_check_from_scratch(tmp_path: Path) -> None:
    """The language server checks again with one file's facts replaced: the answers memoised by the last check
    (base classes, columns, lookups) must not survive into this one."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "base.py").write_text(MIXIN, encoding="utf-8")
    (tmp_path / "app" / "orders.py").write_text(MODEL, encoding="utf-8")
    editing = Workspace(tmp_path)
    editing.scan()
    before = findings(editing)
    assert not [finding for finding in before if finding[0] == "DB001"]

    edited = "\n".join(line for line in MIXIN.splitlines() if "created_at" not in line) + "\n"
    editing.update_file("app/base.py", edited.encode())
    (tmp_path / "app" / "base.py").write_text(edited, encoding="utf-8")
    fresh = Workspace(tmp_path)
    fresh.scan()
    after = findings(editing)
    assert after == findings(fresh)
    assert [finding for finding in after if finding[0] == "DB001"]

    editing.update_file("app/base.py", MIXIN.encode())
    assert findings(editing) == before
