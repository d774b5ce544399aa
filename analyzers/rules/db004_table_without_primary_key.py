"""## What it does
Flags a table with no primary key, across every place that declares it: the model, a Core `Table(...)`, the
migrations (a key added by a later revision or `ALTER TABLE ... ADD PRIMARY KEY` counts) and SQL scripts.

Keys the framework adds count: Django's implicit `id`, the `id` of Advanced Alchemy's `UUIDBase`/`BigIntBase`.
A model whose base comes from an installed package we cannot read is left alone (the base may declare the key).
A join table is keyed when a unique constraint covers its foreign-key columns; without one it is reported with
a suggestion to make those columns its composite primary key.

## Why it matters
Without a primary key nothing identifies a row: duplicates creep in, an `UPDATE` or `DELETE` of "that row"
cannot be written safely, logical replication and most CDC tools refuse the table, and MySQL/InnoDB picks a
hidden clustering key for you. SQLAlchemy's ORM cannot even map such a class: it fails at import with
"could not assemble any primary key columns". A join table without one accepts the same link twice.

## Example
```python
audit_log = Table(
    "audit_log", metadata,
    Column("actor", String(80)),
    Column("action", String(200)),
)

post_tags = Table(
    "post_tags", metadata,
    Column("post_id", ForeignKey("posts.id")),
    Column("tag_id", ForeignKey("tags.id")),
)
```

## Use instead
```python
audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("actor", String(80)),
    Column("action", String(200)),
)

post_tags = Table(
    "post_tags", metadata,
    Column("post_id", ForeignKey("posts.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)
```
For a SQLAlchemy or SQLModel join table, the fix marks its foreign-key columns `primary_key=True` (unsafe: an
existing table needs a migration, and duplicate links must go first). Other tables need a key chosen by you.

## Options
- `allow`: table names (glob patterns, e.g. `"staging_*"`) that may stay without a primary key
  (default: none).
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Fix, Project, Span, Table, TableDeclaration, TextEdit
from analyzers.rules import Rule
from analyzers.rules._column_types import SQLALCHEMY_FRAMEWORKS


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow: list[str] = []


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for table in project.tables.values():
        declaration = table.primary
        if declaration is None or not table.managed or table.read_only or table.unseen_bases:
            continue
        if has_primary_key(table) or any(fnmatchcase(table.name.lower(), pattern.lower())
                                         for pattern in options.allow):
            continue
        linked = link_columns(table)
        if table.is_association and linked:
            if unique_link(table, linked):
                continue
            yield RULE.finding(
                f"join table {table.name} has no primary key: make ({', '.join(linked)}) its composite primary key "
                "so the same pair cannot be linked twice",
                declaration.location, table.name, fix=composite_key_fix(table, declaration, linked))
            continue
        yield RULE.finding(
            f"table {table.name} has no primary key: add one (an auto-increment or UUID `id`){orm_note(declaration)}",
            declaration.location, table.name)


def has_primary_key(table: Table) -> bool:
    return bool(table.primary_key) or any(column.primary_key for column in table.columns.values())


def link_columns(table: Table) -> tuple[str, ...]:
    """The foreign-key columns of a join table, in column order."""
    referencing = {name for fk in table.foreign_keys for name in fk.columns}
    return tuple(name for name in table.columns if name in referencing)


def unique_link(table: Table, linked: tuple[str, ...]) -> bool:
    """A unique constraint (not partial) over exactly the linked columns identifies each row."""
    return any(index.unique and not index.partial and set(index.columns) == set(linked) for index in table.indexes)


def orm_note(declaration: TableDeclaration) -> str:
    if declaration.kind == "model" and declaration.class_name and declaration.framework in SQLALCHEMY_FRAMEWORKS:
        return "; SQLAlchemy cannot map a class without one"
    return ""


def composite_key_fix(table: Table, declaration: TableDeclaration, linked: tuple[str, ...]) -> Fix | None:
    """`primary_key=True` on each linked column of a SQLAlchemy/SQLModel declaration in the same file."""
    if declaration.kind != "model" or declaration.framework not in SQLALCHEMY_FRAMEWORKS:
        return None
    edits: list[TextEdit] = []
    for name in linked:
        column = table.columns[name]
        anchor = column.options_anchor
        if anchor is None or anchor.path != declaration.location.path or column.origin != "own" or \
                "primary_key" in (column.declaration_text or ""):
            return None
        edits.append(TextEdit(anchor.path, Span(anchor.span.start, anchor.span.start), ", primary_key=True"))
    return Fix(f"Make ({', '.join(linked)}) the primary key of {table.name}", edits=tuple(edits), safe=False)


RULE = Rule(
    code="DB004",
    name="table-without-primary-key",
    summary="A table has no primary key (a join table, no composite key or unique pair)",
    check=check,
    options=Options,
    fixable=True,
)
