"""What DB001 (created_at) and DB002 (updated_at) share: finding a table's timestamp and offering the fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from analyzers.model import Fix, Project, Span, Table, TextEdit
from analyzers.rules._fixes import (
    model_timestamp_line,
    new_alembic_revision,
    planner_for,
    sql_identifier,
    sql_timestamp_column,
)

DATETIME_HINTS = ("date", "time", "timestamp")
_CAMEL_HUMP = re.compile(r"([a-z0-9])([A-Z])")


# Words that name a row's creation or last modification, and the units a timestamp column's name may end with
# (`creation_time_ms`, `last_updated_timestamp`, `createdAt`): MLflow stores epoch milliseconds under such names.
# The moment a row arrived is its creation: `ingested_at`, `recorded_at`, `logged_at`, `received_at` (Langflow,
# Indico). Not `submitted`/`registered`: a draft is created before it is submitted.
CREATED_WORDS = frozenset({"created", "creation", "create", "inserted", "insert", "added", "ingested", "recorded",
                           "logged", "received"})
UPDATED_WORDS = frozenset({"updated", "update", "modified", "modification", "changed", "edited"})
TIME_UNITS = frozenset({"at", "on", "time", "timestamp", "ts", "date", "datetime", "dt", "ms", "millis", "ns",
                        "nano", "nanos", "unix", "epoch", "utc"})
DATE_WORDS = frozenset({"date", "time", "timestamp"})


def has_timestamp(table: Table, names: list[str], kind: str) -> bool:
    """A column with one of `names` (case-insensitive, `_` ignored so createdAt = created_at) or a name of the
    same shape (`creation_time_ms`, `last_update_time`), or a date/time column the framework fills itself on
    insert (kind "created") or on update ("updated"), whatever its name (Django's `date_joined`)."""
    wanted = _normalised(tuple(names))
    for column in table.columns.values():
        if _normalise(column.name) in wanted or names_timestamp(column.name, kind):
            return True
        filled = column.auto_on_update if kind == "updated" else column.auto_on_insert and not column.auto_on_update
        if filled and _is_datetime(column.type):
            return True
    return False


@lru_cache(maxsize=8192)  # a pure function of its arguments; tables repeat their column names
def names_timestamp(name: str, kind: str) -> bool:
    """`created`/`creation`/`last_updated`/... leading the name, then only time units (`_at`, `_time`, `_ms`),
    or a date word then the action (`date_created`, `time_updated`). The action must lead: `totp_created` or
    `progress_updated_at` time something else than the row."""
    words = CREATED_WORDS if kind == "created" else UPDATED_WORDS
    tokens = _CAMEL_HUMP.sub(r"\1_\2", name).lower().strip("_").split("_")
    if kind == "updated" and tokens[0] == "last":
        tokens = tokens[1:]
    if len(tokens) == 2 and tokens[0] in DATE_WORDS and tokens[1] in words:
        return True
    if not tokens or tokens[0] not in words:
        return False
    # `created` alone is a timestamp; `creation` or `update` alone is not
    return all(token in TIME_UNITS for token in tokens[1:]) and (len(tokens) > 1 or tokens[0].endswith("ed"))


def _is_datetime(column_type: str | None) -> bool:
    lowered = (column_type or "").lower()
    return any(hint in lowered for hint in DATETIME_HINTS)


def _normalise(name: str) -> str:
    return name.replace("_", "").lower()


@lru_cache(maxsize=16)  # the configured names, the same for every table
def _normalised(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_normalise(name) for name in names)


def candidate_tables(project: Project) -> Iterator[Table]:
    """Tables a timestamp rule applies to: managed, not pure join tables, with a declaration to point at."""
    for table in project.tables.values():
        if table.is_association or not table.managed or table.primary is None:
            continue
        if table.unseen_bases:  # a base class from an installed package may well carry the timestamps
            continue
        yield table


def timestamp_fix(project: Project, table: Table, column: str, kind: str) -> Fix | None:
    """Add the column where the table is declared: the model field, else a new Alembic revision, else SQL."""
    declaration = table.primary
    if declaration is None:
        return None
    title = f"Add `{column}` to {table.name}"
    if declaration.kind == "model" and declaration.body_anchor is not None:
        planner = planner_for(declaration)
        line = model_timestamp_line(declaration, column, kind, planner)
        if line is None:
            return None
        insert = TextEdit(declaration.location.path, declaration.body_anchor.span, line)
        return Fix(title, edits=(*planner.edits(), insert))
    if declaration.kind == "migration":
        update = ", onupdate=sa.func.now()" if kind == "updated" else ""
        created = new_alembic_revision(
            project, f"{table.name}.{column}", f"add {column} to {table.name}",
            [f'op.add_column("{table.name}", sa.Column("{column}", sa.DateTime(timezone=True), '
             f'server_default=sa.func.now(){update}, nullable=False))'],
            [f'op.drop_column("{table.name}", "{column}")'],
            declaration,
        )
        return Fix(title + " in a new Alembic revision", creates=(created,)) if created else None
    if declaration.kind == "sql" and declaration.after_anchor is not None:
        definition = sql_timestamp_column(project, column, kind)
        if definition is None:
            return None
        name = sql_identifier(table.name, project.dialect)
        statement = f"{declaration.after_indent}ALTER TABLE {name} ADD COLUMN {definition};\n"
        anchor = Span(declaration.after_anchor.span.start, declaration.after_anchor.span.start)
        return Fix(title, edits=(TextEdit(declaration.location.path, anchor, statement),), safe=False)
    return None
