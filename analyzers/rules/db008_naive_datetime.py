"""## What it does
Flags timestamps stored or filled without a time zone:

- a SQLAlchemy `DateTime` / `TIMESTAMP` without `timezone=True`, including `Mapped[datetime]` and SQLModel
  `datetime` fields with no explicit type (both map to a naive `DateTime`, unless the declarative base's
  `type_annotation_map` says otherwise, or the project requires SQLModel 0.0.45 or later, which maps `datetime`
  to its zone-aware `UTCDateTime`);
- SQL `timestamp` / `timestamp without time zone` (prefer `timestamptz`);
- a default that fills a naive current time: `datetime.utcnow`, `datetime.now` / `datetime.now()` without a
  time zone (Django's `timezone.now`, `func.now()` and `datetime.now(timezone.utc)` are fine);
- Django's `USE_TZ = False` (reported once, at the setting; Django's `DateTimeField`s follow it).

The column types are reported on PostgreSQL and the other databases with a zone-aware type (and when the
database is unknown). MySQL's `DATETIME` has no zone at all (its `TIMESTAMP` converts to UTC): there the usual
practice is to store UTC, so MySQL columns and `utcnow` defaults are reported only with `mysql = "report"`.
SQLite has no datetime type and is not reported for types. A local-time default (`datetime.now()`) is reported on
every database.

## Why it matters
A naive timestamp does not say which zone it is in. Servers in different zones, a daylight-saving change or a
session `TimeZone` setting shift the stored values silently; comparisons with aware values raise
`TypeError: can't compare offset-naive and offset-aware datetimes`; `datetime.utcnow()` is deprecated since
Python 3.12 because its result looks like local time.

## Example
```python
class Event(Base):
    __tablename__ = "events"
    id = Column(Integer, primary_key=True)
    starts_at = Column(DateTime, nullable=False)
    created_at = Column(DateTime(timezone=True), default=datetime.utcnow)
```

## Use instead
```python
    starts_at = Column(DateTime(timezone=True), nullable=False)
    created_at = Column(DateTime(timezone=True), server_default=func.now())
```
The fix rewrites a SQLAlchemy `DateTime` / `DateTime()` written on a model column to `DateTime(timezone=True)`.
It is unsafe: an existing column needs a migration (`ALTER COLUMN ... TYPE timestamptz`) that decides which zone
the stored values were in.

## Options
- `mysql`: `"skip"` (default) or `"report"` naive `DATETIME` columns and `utcnow` defaults on MySQL/MariaDB.
- `allow`: column names (glob patterns) that may hold naive wall-clock times, e.g. a local opening hour
  (default: `*_local`, `local_*`, `*_naive`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import translate
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from analyzers.model import Column, Finding, Fix, Project, Table, TableDeclaration, TextEdit
from analyzers.rules import Rule
from analyzers.rules._column_types import (
    MYSQL_LIKE,
    SQLALCHEMY_FRAMEWORKS,
    ColumnSite,
    TypeText,
    annotation_of,
    column_location,
    column_sites,
    declaration_of,
    written_type,
)

NAIVE_TYPES = frozenset({"datetime", "timestamp", "timestamp without time zone", "datetime2", "smalldatetime"})
AWARE_TYPES = frozenset({"timestamptz", "timestamp with time zone", "datetimeoffset",
                         "timestamp with local time zone"})
# On MySQL, TIMESTAMP is converted to UTC and back: only DATETIME lacks a zone.
MYSQL_NAIVE_TYPES = frozenset({"datetime"})
LOCAL_TIME_DEFAULTS = ("now", "today")
# How SQLAlchemy (and a plain `datetime` annotation) spell the naive types.
SQLALCHEMY_SPELLINGS = frozenset({"DateTime", "DATETIME", "TIMESTAMP", "DATETIME2", "SMALLDATETIME", "datetime"})


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mysql: Literal["skip", "report"] = "skip"
    allow: list[str] = ["*_local", "local_*", "*_naive"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    use_tz = project.settings.get("django.use_tz")
    setting = project.setting_locations.get("django.use_tz")
    if use_tz == "False" and setting is not None:
        yield RULE.finding(
            "USE_TZ = False: Django stores and returns naive local datetimes; set USE_TZ = True (the default "
            "since Django 5.0) and convert the stored values", setting, "settings.USE_TZ")
    for site in column_sites(project):
        if allowed(site.column.name, options.allow):
            continue
        finding = column_finding(project, site, options, django_naive=use_tz == "False")
        if finding is not None:
            yield finding


def allowed(name: str, patterns: list[str]) -> bool:
    matcher = _glob_matcher(tuple(patterns))
    return matcher is not None and matcher.match(name.lower()) is not None


@lru_cache(maxsize=16)  # a pure function of the patterns; asked once per column
def _glob_matcher(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression matching what any of the (case-insensitive) glob patterns matches."""
    if not patterns:
        return None
    return re.compile("|".join(translate(pattern.lower()) for pattern in patterns))


def zone(column: Column) -> str | None:
    """"naive", "aware" or None (not a timestamp the type tells us about, e.g. Django's DateTimeField)."""
    kind = TypeText.of(column.type)
    if kind.name in AWARE_TYPES:
        return "aware"
    if kind.name not in NAIVE_TYPES:
        return None
    flag = kind.keyword("timezone")
    positional = kind.positional()
    if flag == "true" or (flag is None and positional and positional[0] == "true"):
        return "aware"
    return "naive"


def type_reported(project: Project, column: Column, options: Options) -> bool:
    """The naive type matters on this database."""
    if project.dialect == "sqlite":
        return False
    if project.dialect in MYSQL_LIKE:
        return options.mysql == "report" and TypeText.of(column.type).name in MYSQL_NAIVE_TYPES
    return True


def column_finding(project: Project, site: ColumnSite, options: Options, django_naive: bool) -> Finding | None:
    table, column = site.table, site.column
    reasons: list[str] = []
    kind = zone(column)
    if kind == "naive" and own_type(column, declaration_of(table, column)):
        kind = None
    if kind == "naive" and type_reported(project, column, options):
        reasons.append(f"{described(column)} stores no time zone")
    default = column.attributes.get("naive_default")
    if default is not None and default_reported(project, column, default, options, django_naive):
        reasons.append(f"its default `{default}` gives naive {'local' if local(default) else 'UTC'} times")
    location = column_location(table, column)
    if not reasons or location is None:
        return None
    declaration = declaration_of(table, column)
    return RULE.finding(
        f"{site.label}: {' and '.join(reasons)}; {advice(project, column, declaration)}", location, site.entity,
        fix=timezone_fix(table, column, declaration) if len(reasons) == 1 and default is None else None)


def own_type(column: Column, declaration: TableDeclaration | None) -> bool:
    """A SQLAlchemy model column typed with the project's own class, such as Prefect's `Timestamp` TypeDecorator
    (aware: `impl = TIMESTAMP(timezone=True)`). SQLAlchemy spells its naive types `DateTime`, `DATETIME`,
    `TIMESTAMP`; another spelling is a class whose zone the name does not tell."""
    if declaration is None or declaration.framework not in SQLALCHEMY_FRAMEWORKS:
        return False
    name = (column.type or "").split("(", 1)[0].rsplit(".", 1)[-1]
    return name.lower() in NAIVE_TYPES and name not in SQLALCHEMY_SPELLINGS


def local(default: str) -> bool:
    callee = default.split("(", 1)[0].rsplit(".", 1)[-1]
    return callee in LOCAL_TIME_DEFAULTS


def default_reported(project: Project, column: Column, default: str, options: Options, django_naive: bool) -> bool:
    """Only on timestamp columns. Django with USE_TZ expects aware values everywhere (USE_TZ = False is reported
    once, at the setting). Local time is wrong everywhere; naive UTC is the accepted practice on databases
    without zones."""
    kind = zone(column)
    if TypeText.of(column.type).name == "datetimefield":
        return not django_naive
    if kind is None:
        return False
    if local(default) or kind == "aware":
        return True
    if project.dialect == "sqlite":
        return False
    if project.dialect in MYSQL_LIKE:
        return options.mysql == "report"
    return True


def described(column: Column) -> str:
    annotation = annotation_of(column)
    if annotation is not None:
        return f"the `{annotation}` annotation maps to a DateTime that"
    return f"its type {written_type(column)}"


def advice(project: Project, column: Column, declaration: TableDeclaration | None) -> str:
    name = TypeText.of(column.type).name
    if declaration is not None and declaration.kind == "sql":
        return "use timestamptz" if project.dialect not in MYSQL_LIKE else "store UTC in TIMESTAMP"
    if name == "datetimefield":
        return "use django.utils.timezone.now"
    if project.dialect in MYSQL_LIKE or project.dialect == "sqlite":
        return "fill it in UTC (datetime.now(timezone.utc))"
    if column.attributes.get("type_from") == "sqlmodel_utc":
        return "fill it with datetime.now(timezone.utc) (SQLModel's UTCDateTime rejects naive values)"
    if column.attributes.get("type_from") == "sqlmodel":
        return ("use Field(sa_type=DateTime(timezone=True)) or require sqlmodel>=0.0.45 (which maps datetime to a "
                "zone-aware type), and an aware default (datetime.now(timezone.utc))")
    if column.attributes.get("type_from") == "annotation":
        return "use mapped_column(DateTime(timezone=True)) or map datetime in the base's type_annotation_map"
    return "use DateTime(timezone=True) and an aware default (func.now(), datetime.now(timezone.utc))"


def timezone_fix(table: Table, column: Column, declaration: TableDeclaration | None) -> Fix | None:
    """`DateTime` / `sa.DateTime()` written on a SQLAlchemy model column → `DateTime(timezone=True)`."""
    where, source = column.type_location, column.attributes.get("type_source", "")
    if where is None or declaration is None or declaration.kind != "model" or \
            declaration.framework not in SQLALCHEMY_FRAMEWORKS or where.path != declaration.location.path:
        return None
    callee = source[:-2] if source.endswith("()") else source
    if callee.rpartition(".")[2] not in ("DateTime", "TIMESTAMP") or "(" in callee:
        return None
    return Fix(f"Use {callee}(timezone=True) for {table.name}.{column.name}",
               edits=(TextEdit(where.path, where.span, f"{callee}(timezone=True)"),), safe=False)


RULE = Rule(
    code="DB008",
    name="naive-datetime",
    summary="A timestamp column or default has no time zone (or Django runs with USE_TZ = False)",
    check=check,
    options=Options,
    fixable=True,
)
