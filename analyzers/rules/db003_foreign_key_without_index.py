"""## What it does
Flags a foreign key whose referencing columns lead no index, on databases that do not create one themselves.

The database matters: PostgreSQL and SQLite never index the referencing side of a foreign key; MySQL/InnoDB
creates the index itself when none leads with the columns; Django's `ForeignKey` adds one on every database
(unless `db_index=False`). Only an index, primary key or unique constraint whose *leading* columns are the
foreign key's columns covers it: the second column of a composite index does not. Indexes from every source
count: `index=True`, `Index(...)`, `__table_args__`, `Meta.indexes`, and `CREATE INDEX` / `op.create_index` in
any later migration.

## Why it matters
Every join from the parent to its children, and every `DELETE`/`UPDATE` of a parent row (which must check or
cascade to the children), scans the whole child table without that index. It is the most common cause of a
query that was fast in development and times out in production, and of lock pile-ups on cascading deletes.

## Example
```python
class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
```

## Use instead
```python
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
```
The fix adds `index=True` to the model column, or, for a table only migrations declare, a new Alembic revision
after the current head with `op.create_index(...)`, or a `CREATE INDEX` statement after the SQL `CREATE TABLE`.

## Options
- `unknown-database`: what to assume when the database cannot be detected and the configuration's
  `database` is not set: `"report"` (default; PostgreSQL behaviour, the common case) or `"skip"`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Fix, ForeignKey, Project, Span, Table, TextEdit
from analyzers.rules import Rule
from analyzers.rules._fixes import declaration_at, looks_like_sql_migration, new_alembic_revision, sql_identifier

SELF_INDEXING = {"mysql": "MySQL/InnoDB", "mariadb": "MariaDB/InnoDB"}
DIALECT_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite", "cockroachdb": "CockroachDB",
                 "mssql": "SQL Server", "oracle": "Oracle"}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unknown_database: Literal["report", "skip"] = "report"


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    if project.dialect in SELF_INDEXING:
        return
    if project.dialect is None and options.unknown_database == "skip":
        return
    for table in project.tables.values():
        if not table.managed:
            continue
        leads: list[tuple[str, ...]] | None = None  # made once per table, when a foreign key asks
        for foreign_key in table.foreign_keys:
            if foreign_key.kind != "constraint" or foreign_key.framework_indexed:
                continue
            leads = leads if leads is not None else index_leads(table)
            if covered(leads, foreign_key.columns):
                continue
            location = foreign_key.location or (table.primary.location if table.primary else None)
            if location is None:
                continue
            columns = ", ".join(foreign_key.columns)
            target = foreign_key.target_table or "?"
            if foreign_key.target_columns:
                target += "." + ", ".join(foreign_key.target_columns)
            yield RULE.finding(
                f"{table.name}.{columns} references {target} but no index leads with it ({why(project)})",
                location,
                f"{table.name}.{','.join(foreign_key.columns)}",
                fix=index_fix(project, table, foreign_key),
            )


def index_leads(table: Table) -> list[tuple[str, ...]]:
    """The column lists of the table's indexes (not partial ones), primary key and indexed or unique columns."""
    candidates = [index.columns for index in table.indexes if not index.partial]
    if table.primary_key:
        candidates.append(table.primary_key)
    candidates.extend((column.name,) for column in table.columns.values() if column.indexed or column.unique)
    return candidates


def covered(leads: list[tuple[str, ...]], columns: tuple[str, ...]) -> bool:
    """An index (or PK / unique) whose leading columns are exactly the foreign key's columns, in any order."""
    wanted = set(columns)
    return any(set(candidate[: len(columns)]) == wanted for candidate in leads)


def why(project: Project) -> str:
    if project.dialect is None:
        return "the database was not detected; PostgreSQL and SQLite do not create one"
    name = DIALECT_NAMES.get(project.dialect, project.dialect)
    return f"{name} does not create one"


def index_name(table: Table, columns: tuple[str, ...]) -> str:
    return f"ix_{table.name}_{'_'.join(columns)}"


def index_fix(project: Project, table: Table, foreign_key: ForeignKey) -> Fix | None:
    declaration = declaration_at(table, foreign_key.location)
    if declaration is None:
        return None
    columns = foreign_key.columns
    title = f"Index {table.name}.{', '.join(columns)}"
    if declaration.kind == "model":
        column = table.columns.get(columns[0]) if len(columns) == 1 else None
        if column is None or column.options_anchor is None or "index=" in (column.declaration_text or ""):
            return None
        if declaration.idiom.get("style") == "django":
            return None  # Django indexes foreign keys unless told not to: that choice is the developer's
        anchor = column.options_anchor
        return Fix(title + " (index=True)",
                   edits=(TextEdit(anchor.path, Span(anchor.span.start, anchor.span.start), ", index=True"),))
    name = index_name(table, columns)
    quoted = ", ".join(f'"{column}"' for column in columns)
    if declaration.kind == "migration":
        created = new_alembic_revision(
            project, f"{table.name}.{','.join(columns)}", f"index {table.name} {' '.join(columns)}",
            [f'op.create_index("{name}", "{table.name}", [{quoted}])'],
            [f'op.drop_index("{name}", table_name="{table.name}")'],
            declaration,
        )
        return Fix(title + " in a new Alembic revision", creates=(created,)) if created else None
    if declaration.kind == "sql" and declaration.after_anchor is not None:
        spelled = ", ".join(sql_identifier(column, project.dialect) for column in columns)
        statement = (f"{declaration.after_indent}CREATE INDEX {sql_identifier(name, project.dialect)} ON "
                     f"{sql_identifier(table.name, project.dialect)} ({spelled});\n")
        start = declaration.after_anchor.span.start
        return Fix(title, edits=(TextEdit(declaration.location.path, Span(start, start), statement),),
                   safe=not looks_like_sql_migration(declaration.location.path))
    return None


RULE = Rule(
    code="DB003",
    name="foreign-key-without-index",
    summary="A foreign key's referencing columns lead no index (given the database's own behaviour)",
    check=check,
    options=Options,
    fixable=True,
)
