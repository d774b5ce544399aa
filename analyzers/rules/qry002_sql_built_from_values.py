"""## What it does
Flags SQL text built with an f-string, `%`, `.format()` or `+` from values that reach an execution call:
`text(...)`, `session.execute(...)`, `cursor.execute(...)` / `executemany`, `connection.exec_driver_sql`,
asyncpg's `fetch`/`fetchrow`/`fetchval`, Django `Model.objects.raw(...)`, `RawSQL(...)` and
`.extra(where=[...])`, `pandas.read_sql(...)`. The text can be built in a local variable first
(`sql = f"..."; cursor.execute(sql)`, `sql += " AND ..."`).

Only values that come from the function's parameters, from locals computed from them, or from the request
(`flask.request`) count. Not reported: constant SQL with bound parameters (`text("... WHERE id = :id")`,
`execute("... %s", (x,))`), UPPER_CASE module constants (`f"SELECT * FROM {TABLE}"`), `Model.__tablename__`,
an object's own attributes (`self.table`), parameters typed as numbers, UUIDs or dates, numbers (`int(x)`,
`len(x)`, `{x:d}`), placeholder lists (`", ".join(["%s"] * len(ids))`), a value looked up in a constant mapping
(`COLUMNS[sort]`, a whitelist), loops over constants, tests and migrations. When the call also passes bound
parameters, only values used directly are counted: helpers that build `WHERE` fragments with placeholders are
trusted.

## Why it matters
A value formatted into SQL is SQL injection the moment it comes from a user: `name = "x' OR '1'='1"` reads
every row, and worse statements follow. Bound parameters also let the database reuse the query plan, and
they quote dates, `None` and unicode correctly.

## Example
```python
def find_users(db: Session, name: str):
    return db.execute(text(f"SELECT * FROM users WHERE name = '{name}'")).all()
```

## Use instead
```python
def find_users(db: Session, name: str):
    return db.execute(text("SELECT * FROM users WHERE name = :name"), {"name": name}).all()
```
DB-API drivers take the values separately: `cursor.execute("... WHERE name = %s", (name,))` (`?` for sqlite3);
Django: `Model.objects.raw("... WHERE name = %s", [name])`. Identifiers (table or column names) cannot be bound:
pick them from a fixed mapping. There is no deterministic fix: placeholders differ per driver, and the
surrounding quotes must go; "Fix with agent" can rewrite the statement.

## Options
- `trusted-values`: values or parameters never reported (e.g. `order_clause` when a helper whitelists it).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.rules.qry00_shared import is_test_or_migration, ordinal_fingerprints

PLACEHOLDERS = {
    "text": 'text("... = :name") with the values as a dict',
    "raw": 'raw("... = %s", [value])',
    "RawSQL": 'RawSQL("... = %s", [value])',
    "extra": 'extra(where=["... = %s"], params=[value])',
}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trusted_values: list[str] = []


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    trusted = set(options.trusted_values)
    sites = []
    for site in project.calls_of("sql_built"):
        if is_test_or_migration(site.location.path):
            continue
        values = _names(site.detail.get("values"))
        sources = _names(site.detail.get("sources"))
        if trusted and (set(values) <= trusted or set(sources) <= trusted):
            continue
        sites.append((site, values, sources))
    names = ordinal_fingerprints([site for site, _, _ in sites], "sink")
    for site, values, sources in sites:
        sink = site.detail.get("sink", site.callee)
        call = sink if sink.endswith(")") else f"{sink}()"
        via = f" (in `{site.detail['via']}`)" if site.detail.get("via") else ""
        shown = ", ".join(f"`{value}`" for value in values)
        origin = "" if set(sources) <= set(values) else f" (from {', '.join(f'`{s}`' for s in sources)})"
        method = sink.rsplit(".", 1)[-1].split("(")[0]
        instead = PLACEHOLDERS.get(method, "placeholders (%s, ?, :name) and pass the values separately")
        message = (f"SQL built with {site.detail.get('how', 'formatting')} from {shown}{origin}{via} reaches "
                   f"{call}: an injection risk; use {instead}")
        yield RULE.finding(message, site.location, names[id(site)])


def _names(text: str | None) -> list[str]:
    return [value for value in (text or "").split(", ") if value]


RULE = Rule(
    code="QRY002",
    name="sql-built-from-values",
    summary="SQL text is built by formatting or concatenating values instead of binding parameters",
    check=check,
    options=Options,
    severity="error",
)
