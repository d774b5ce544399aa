"""## What it does
Flags a table whose rows are modified but which has no column recording the last modification
(`updated_at`, `modified`, `last_modified`, ...).

Inherited, mixin and framework-provided columns count, as does a column added by a later migration. Tables
whose rows are never updated are exempt: pure join tables, tables whose composite primary key holds every column
(a row holds nothing to change: `dag_tag (name, dag_id)`), and tables named like append-only records (`*_log`,
`*_event(s)`, `*_history`, `*_archive`, `audit*`; configurable).

## Why it matters
Without a modification timestamp you cannot tell which rows changed since the last sync, cache fill or
export, nor answer "who touched this and when" during an incident. Incremental jobs then fall back to full
scans.

## Example
```python
class Customer(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
```

## Use instead
```python
class Customer(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
```
The fix adds the column in the framework's idiom (`onupdate=func.now()` for SQLAlchemy, `auto_now=True` for
Django, `ON UPDATE CURRENT_TIMESTAMP` for MySQL SQL).

## Options
- `names`: column names that count as a modification timestamp
  (default: updated_at, updated, updated_on, modified, modified_at, modified_on, last_modified,
  last_modified_at, date_modified, date_updated, update_time, changed_at, updatedAt). Names of the same shape
  count too (`last_update_time`, `last_updated_timestamp_ms`).
- `append-only`: table name patterns exempt because their rows are never updated, matched against the table
  name and the model class name in snake case (`PrintLog` → `print_log`)
  (default: `log`, `*_log`, `*_logs`, `*log_entry`, `*log_entries`, `*_event`, `*_events`, `*_history`,
  `*_archive`, `audit*`, `*_audit`).
- `column`: the column name the fix adds (default `updated_at`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project, Table
from analyzers.rules import Rule
from analyzers.rules._timestamps import candidate_tables, has_timestamp, names_timestamp, timestamp_fix

DEFAULT_NAMES = [
    "updated_at", "updated", "updated_on", "modified", "modified_at", "modified_on", "last_modified",
    "last_modified_at", "date_modified", "date_updated", "update_time", "changed_at", "updatedAt",
]
DEFAULT_APPEND_ONLY = ["log", "*_log", "*_logs", "*log_entry", "*log_entries", "*_event", "*_events", "*_history",
                       "*_archive", "audit*", "*_audit"]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = DEFAULT_NAMES
    append_only: list[str] = DEFAULT_APPEND_ONLY
    column: str = "updated_at"


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for table in candidate_tables(project):
        if table.read_only or has_timestamp(table, options.names, "updated") or _all_key(table):
            continue
        if any(fnmatch.fnmatch(name, pattern) for name in spellings(table) for pattern in options.append_only):
            continue
        declaration = table.primary
        assert declaration is not None
        yield RULE.finding(
            f"table {table.name} has no modification timestamp (add `{options.column}`)",
            declaration.location,
            table.name,
            fix=timestamp_fix(project, table, options.column, "updated"),
        )


def _all_key(table: Table) -> bool:
    """A composite primary key holds every column (changing one is deleting the row and inserting another), but
    for the row's creation time, written once (DB001's fix adds it to a tag table). A lone surrogate `id` does
    not count: that is a table whose other columns are still to come."""
    key = set(table.primary_key) | {name for name, column in table.columns.items() if column.primary_key}
    return len(key) > 1 and all(name in key or names_timestamp(name, "created") for name in table.columns)


def spellings(table: Table) -> set[str]:
    """The table's name and its model classes' names in snake case: Django names `PrintLog`'s table
    `app_printlog`, which `*_log` would miss."""
    names = {table.name.lower()}
    for declaration in table.declarations:
        if declaration.class_name:
            names.add(re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", declaration.class_name).lower())
    return names


RULE = Rule(
    code="DB002",
    name="table-without-updated-at",
    summary="A table whose rows are modified has no modification timestamp",
    check=check,
    options=Options,
    fixable=True,
)
