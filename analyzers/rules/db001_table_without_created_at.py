"""## What it does
Flags a table with no column that records when each row was created (`created_at`, `created`,
`inserted_at`, `date_created`, ...). A date/time column of any name that the insert fills with the current time
counts too: `default=datetime.now`, `server_default=func.now()`, or a `server_default` calling any SQL function
without arguments (a project's own clock `FunctionElement`).

Timestamps count wherever they come from: the model itself, an abstract base or mixin in another module,
the framework, or a later migration that adds the column. Pure join tables (only foreign keys) are exempt.

## Why it matters
"When did this row appear?" is the first question of every incident, audit, data fix and analytics
request. Without a creation timestamp the answer is gone for every row written so far, and adding the
column later cannot recover it.

## Example
```python
class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    total = Column(Numeric(10, 2))
```

## Use instead
```python
class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    total = Column(Numeric(10, 2))
    created_at = Column(DateTime(timezone=True), server_default=func.now(), nullable=False)
```
Or inherit it from a `TimestampMixin` / an abstract `TimeStampedModel` shared by all models. The fix adds
the column in the framework's idiom (`DateTimeField(auto_now_add=True)` in Django, a new Alembic revision for
tables that only migrations declare, `ALTER TABLE ... ADD COLUMN` for SQL).

## Options
- `names`: column names that count as a creation timestamp
  (default: created_at, created, created_on, created_date, created_time, creation_date, date_created,
  inserted_at, insert_time, create_time, time_created, createdAt). Names of the same shape count too: a
  creation word leading, then only time units (`creation_time_ms`, `created_timestamp`: epoch numbers
  under such names are timestamps as well); the moment a row arrived counts as its creation (`ingested_at`,
  `recorded_at`, `logged_at`, `received_at`), unlike `submitted_at` (a draft exists before it is submitted).
- `column`: the column name the fix adds (default `created_at`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.rules._timestamps import candidate_tables, has_timestamp, timestamp_fix

DEFAULT_NAMES = [
    "created_at", "created", "created_on", "created_date", "created_time", "creation_date", "date_created",
    "inserted_at", "insert_time", "create_time", "time_created", "createdAt",
]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = DEFAULT_NAMES
    column: str = "created_at"


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for table in candidate_tables(project):
        if has_timestamp(table, options.names, "created"):
            continue
        declaration = table.primary
        assert declaration is not None
        yield RULE.finding(
            f"table {table.name} has no creation timestamp (add `{options.column}`)",
            declaration.location,
            table.name,
            fix=timestamp_fix(project, table, options.column, "created"),
        )


RULE = Rule(
    code="DB001",
    name="table-without-created-at",
    summary="A table has no creation timestamp column",
    check=check,
    options=Options,
    fixable=True,
)
