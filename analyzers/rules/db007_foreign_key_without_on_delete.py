"""## What it does
Flags a foreign-key constraint that does not say what happens when the referenced row is deleted: a SQLAlchemy
`ForeignKey("customers.id")` / `ForeignKeyConstraint` without `ondelete=`, a SQLModel `Field(foreign_key=...)`
without `ondelete=`, an Alembic `create_foreign_key` without `ondelete`, a SQL `REFERENCES` without
`ON DELETE`. A rule given anywhere the key is declared counts (the model or a migration).

Django is never reported: its `ForeignKey` requires `on_delete`. This is a design prompt, not a defect, so
its severity is `info`.

## Why it matters
Without a rule the database applies `NO ACTION`: deleting a parent that still has children fails, and
whoever wrote the delete finds out in production. Often that is what you want; often it is not (a join
table's rows should go with either side, an optional reference should become `NULL`). Writing the rule down
makes the choice visible in review and keeps the ORM and the database in agreement.

## Example
```python
class OrderLine(Base):
    __tablename__ = "order_lines"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, index=True)
```

## Use instead
```python
    order_id = Column(ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
```
`ondelete="RESTRICT"` (refuse), `"SET NULL"` (for a nullable, optional reference) or `"CASCADE"` (children
belong to the parent). There is no automatic fix: the choice is yours.

## Options
None. The rule is opt-in (`extend-select = ["DB007"]`): most schemas rely on the default `NO ACTION` for
many foreign keys on purpose, and a finding on every one of them would drown the rest. Once selected,
`per-file-ignores` can exempt migrations you no longer edit.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from analyzers.model import Finding, ForeignKey, Location, Project, Table
from analyzers.rules import Rule


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    for found in unruled_foreign_keys(project).values():
        table, foreign_key = found[0]
        location = foreign_key.location or table_location(table)
        columns = ", ".join(foreign_key.columns)
        if len(found) == 1:
            label, entity = f"{table.name}.{columns}", f"{table.name}.{','.join(foreign_key.columns)}"
        else:  # a mixin's foreign key: one declaration shared by several tables, one finding
            label = f"{columns} (in {', '.join(item[0].name for item in found)})"
            entity = f"{location.path}:{','.join(foreign_key.columns)}"
        yield RULE.finding(
            f"{label} references {target(foreign_key)} with no ON DELETE rule: deleting a referenced row fails "
            f"while rows point at it (NO ACTION){advice(table)}", location, entity)


def unruled_foreign_keys(project: Project) -> dict[tuple[object, ...], list[tuple[Table, ForeignKey]]]:
    """Foreign-key constraints without ON DELETE, grouped by where (and what) they declare."""
    found: dict[tuple[object, ...], list[tuple[Table, ForeignKey]]] = {}
    for table in sorted(project.tables.values(), key=lambda item: item.name):
        if not table.managed:
            continue
        for foreign_key in table.foreign_keys:
            if foreign_key.kind != "constraint" or foreign_key.on_delete or declared_by_django(table, foreign_key):
                continue
            if foreign_key.location is None and table.primary is None:
                continue
            place = (foreign_key.location or table_location(table), foreign_key.columns, foreign_key.target_table)
            found.setdefault(place, []).append((table, foreign_key))
    return found


def table_location(table: Table) -> Location:
    assert table.primary is not None
    return table.primary.location


def declared_by_django(table: Table, foreign_key: ForeignKey) -> bool:
    """Django requires `on_delete` (positionally too, which the model may not have read)."""
    path = foreign_key.location.path if foreign_key.location else None
    frameworks = {declaration.framework for declaration in table.declarations
                  if path is None or declaration.location.path == path}
    return "django" in (frameworks or {declaration.framework for declaration in table.declarations})


def target(foreign_key: ForeignKey) -> str:
    name = foreign_key.target_table or "?"
    if foreign_key.target_columns:
        name += "." + ", ".join(foreign_key.target_columns)
    return name


def advice(table: Table) -> str:
    if is_pure_link(table):
        return "; a join table's rows usually go with either side (CASCADE)"
    return "; choose CASCADE, SET NULL or RESTRICT"


def is_pure_link(table: Table) -> bool:
    """A join table keyed (if at all) by its links only: a row means nothing once either side is gone. One with
    its own surrogate `id` may be an entity of its own (an order line), so the advice stays neutral there."""
    linked = {name for fk in table.foreign_keys for name in fk.columns}
    return table.is_association and all(name in linked for name in table.primary_key)


RULE = Rule(
    code="DB007",
    name="foreign-key-without-on-delete",
    summary="A foreign key does not say what happens when the referenced row is deleted",
    check=check,
    severity="info",
    default_enabled=False,
)
