"""## What it does
Flags string columns whose size the database needs and the declaration does not give:

- on MySQL/MariaDB (and Oracle): a SQLAlchemy `String` / `String()` / `Unicode()` without a length, a
  `Mapped[str]` column without a type, and a SQL `VARCHAR` without `(n)`;
- on MySQL/MariaDB: a `Text` / `TEXT` column that is unique, indexed or the primary key (MySQL cannot index
  TEXT without a prefix length);
- on every database, when `string-size = "require"`: any unsized string column (SQLModel `str` fields without
  `max_length` included).

On PostgreSQL and SQLite an unbounded `varchar`/`text` is idiomatic and costs nothing, so by default nothing
is reported there. Django's `CharField` always has a `max_length` (Django checks it), and SQLModel sizes `str`
fields on MySQL itself (`VARCHAR(255)`), so neither is reported by default.

## Why it matters
MySQL refuses `VARCHAR` without a length: SQLAlchemy raises `VARCHAR requires a length on dialect mysql`
when it creates the table, so the model works against SQLite in tests and breaks on the real database.
An index or unique constraint on a `TEXT` column fails with error 1170 ("BLOB/TEXT column used in key
specification without a key length"). Where sizes are the team's convention, a length documents the data and
stops a runaway value at the database.

## Example
```python
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String, nullable=False)          # MySQL: no length
    bio = Column(Text, unique=True)                 # MySQL: TEXT cannot be indexed
```

## Use instead
```python
    email = Column(String(320), nullable=False)
    bio = Column(String(500), unique=True)
```
There is no automatic fix: the right size depends on the data.

## Options
- `string-size`: `"dialect"` (default) reports only what the detected database requires; `"require"` reports
  every string column without a size, on every database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict

from analyzers.model import Column, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._column_types import (
    MYSQL_LIKE,
    TypeText,
    annotation_of,
    column_location,
    column_sites,
    dialect_name,
    written_type,
)

STRING_TYPES = frozenset({"string", "unicode", "varchar", "nvarchar", "character varying", "varchar2",
                          "nvarchar2", "autostring"})
TEXT_TYPES = frozenset({"text", "unicodetext", "tinytext", "mediumtext", "longtext", "textfield"})
# Databases where VARCHAR needs a length (SQLAlchemy raises when it compiles the DDL).
LENGTH_REQUIRED = MYSQL_LIKE | {"oracle"}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    string_size: Literal["dialect", "require"] = "dialect"


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for site in column_sites(project):
        message = problem(project, site.column, options)
        location = column_location(site.table, site.column)
        if message is not None and location is not None:
            yield RULE.finding(f"{site.label} {message}", location, site.entity)


def problem(project: Project, column: Column, options: Options) -> str | None:
    kind = TypeText.of(column.type)
    if kind.name in STRING_TYPES and not has_length(column, kind):
        sqlmodel = column.attributes.get("type_from") == "sqlmodel"
        if project.dialect in LENGTH_REQUIRED and not sqlmodel:
            return (f"is {described(column)} without a length: {dialect_name(project.dialect)} needs one for "
                    "VARCHAR (creating the table fails); give it the size its values need")
        if options.string_size == "require":
            return f"is {described(column)} without a size: give it the length its values need, or use Text"
    if kind.name in TEXT_TYPES and project.dialect in MYSQL_LIKE and keyed(column, kind):
        sized = "CharField(max_length=...)" if kind.name == "textfield" else "a sized String/VARCHAR"
        return (f"is {written_type(column)} and {keyed(column, kind)}: {dialect_name(project.dialect)} cannot "
                f"index TEXT without a prefix length; use {sized}")
    return None


def has_length(column: Column, kind: TypeText) -> bool:
    if column.attributes.get("length"):
        return True
    length = kind.keyword("length")
    if length is not None:
        return length != "none"
    positional = kind.positional()
    return bool(positional) and positional[0] != "none"


def keyed(column: Column, kind: TypeText) -> str:
    """What indexes the column itself ("unique", "indexed", "the primary key"), "" when nothing does. Django
    skips a `db_index` on TEXT itself (with a warning), so only its unique constraint counts there."""
    if column.primary_key:
        return "the primary key"
    if column.unique:
        return "unique"
    if column.indexed and kind.name != "textfield":
        return "indexed"
    return ""


def described(column: Column) -> str:
    annotation = annotation_of(column)
    if annotation is not None:
        return f"a `{annotation}` column (mapped to String())"
    return f"a {written_type(column)}"


RULE = Rule(
    code="DB006",
    name="string-without-length",
    summary="A string column has no length where the database or the project's convention needs one",
    check=check,
    options=Options,
)
