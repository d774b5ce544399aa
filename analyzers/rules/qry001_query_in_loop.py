"""## What it does
Flags a database query that runs once per iteration of a loop (the "N+1 queries" pattern): an ORM fetch
(`session.query(...)`, `session.get(...)`, `session.execute(select(...))`, `Model.query.filter(...).first()`,
`Model.objects.get/filter(...)`, `get_object_or_404(...)`) or a raw `SELECT` inside a `for` loop or a
comprehension, when the function serves a request (it is a handler or something a handler calls, FastAPI
dependencies included) or when the loop iterates the rows of another query. A loop that calls a project
function which itself queries is reported at that call.

Not reported: the query that produces the loop's rows (it runs once), a query filtering with `IN` by the loop
variable or a slice the loop moves along (`id__in=chunk`, `.in_(ids[start:start + 500])`: chunking on purpose),
loops over a display written in the code (`for column in (A.x, B.y)`: as many queries as items, however large
the tables), a query in a session the loop opens for each item (`for id in ids: with session_scope() as s:`:
each item is its own unit of work, so one failure does not roll back the others), a query in a branch that
ends by returning or raising (`if key.matches(given): return session.get(User, key.user_id)`: it runs once, for
the item found), `while` loops (batch processing), writes, and lazy relationship loads (`order.customer`),
which the source alone cannot tell from plain attributes.

## Why it matters
One query per row turns a page of 50 orders into 51 round trips to the database. It is invisible with the
handful of rows of a development database and becomes the slowest endpoint in production, growing with the
data instead of staying constant.

## Example
```python
@router.get("/orders")
def list_orders(db: Session = Depends(get_db)):
    orders = db.scalars(select(Order).limit(50)).all()
    return [{"id": o.id, "customer": db.get(Customer, o.customer_id).name} for o in orders]
```

## Use instead
```python
    orders = db.scalars(select(Order).options(selectinload(Order.customer)).limit(50)).all()
    return [{"id": o.id, "customer": o.customer.name} for o in orders]
```
Django: `Order.objects.select_related("customer")` (foreign keys) or `prefetch_related("items")` (reverse and
many-to-many), or one query for all keys with `Customer.objects.in_bulk(ids)`. Raw SQL: one query with
`WHERE id = ANY(%s)` / `IN (...)`. There is no deterministic fix: the right loading strategy depends on the
relationship; "Fix with agent" can restructure the loop.

## Options
- `request-path-only`: report only loops in functions that serve a request, not loops over query results in
  jobs and scripts (default false).
- `follow-calls`: also report a loop that calls a project function which queries (default true).
- `ignore-models`: model names whose queries are never reported (e.g. a cached lookup table).
- `skip-on-sqlite`: report nothing when the project's database is SQLite, where a query is a function call
  rather than a network round trip and many small queries are cheap (default false: projects often develop on
  SQLite and deploy elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule
from analyzers.rules.qry00_shared import is_test_or_migration, ordinal_fingerprints, serving, short_name

SUGGESTIONS = {
    "django": "load them with select_related()/prefetch_related(), or fetch all keys at once with "
              "filter(id__in=...) / in_bulk()",
    "sqlalchemy": "load them with the rows that drive the loop (selectinload()/joinedload()), or fetch all keys "
                  "at once with .in_()",
    "flask_sqlalchemy": "load them with the rows that drive the loop (selectinload()/joinedload()), or fetch all "
                        "keys at once with .in_()",
    "sql": "fetch all rows in one query (WHERE id = ANY(...) / IN (...))",
}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_path_only: bool = False
    follow_calls: bool = True
    ignore_models: list[str] = []
    skip_on_sqlite: bool = False


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    if options.skip_on_sqlite and project.dialect == "sqlite":
        return
    ignored = set(options.ignore_models)
    queries = [site for site in project.calls_of("db_query")
               if site.in_loop and not site.detail.get("batched") and site.detail.get("model") not in ignored
               and _reported(project, site, options)]
    names = ordinal_fingerprints(queries, "label")
    for site in queries:
        subject = site.detail.get("label", site.callee)
        yield RULE.finding(_message(project, site, subject, site.detail.get("orm", "")), site.location,
                           names[id(site)])
    if options.follow_calls:
        yield from _through_calls(project, options, ignored)


def _reported(project: Project, site: CallSite, options: Options) -> bool:
    if is_test_or_migration(site.location.path):
        return False
    if serving(project, site.function) is not None:
        return True
    return not options.request_path_only and bool(site.detail.get("loop_over"))


def _message(project: Project, site: CallSite, subject: str, orm: str) -> str:
    request = serving(project, site.function)
    loop = f"a loop over {site.detail['loop_over']}" if site.detail.get("loop_over") else "a loop"
    where = f" while serving {request}" if request else ""
    return (f"{subject} runs a query on every iteration of {loop}{where} (N+1 queries); "
            f"{SUGGESTIONS.get(orm, SUGGESTIONS['sqlalchemy'])}")


def _through_calls(project: Project, options: Options, ignored: set[str]) -> Iterator[Finding]:
    """A loop calling a project function that queries outside any loop of its own: one query per item."""
    direct: dict[str, CallSite] = {}
    for site in project.calls_of("db_query"):
        if site.function and not site.in_loop and not site.detail.get("cached") \
                and site.detail.get("model") not in ignored:
            direct.setdefault(site.function, site)
    calls = [site for site in project.calls_of("loop_call")
             if site.callee in direct and _reported(project, site, options)]
    names = ordinal_fingerprints(calls, "")
    for site in calls:
        query = direct[site.callee]
        subject = f"{short_name(site.callee)} (which runs {query.detail.get('label', query.callee)})"
        yield RULE.finding(_message(project, site, subject, query.detail.get("orm", "")), site.location,
                           names[id(site)], related=[query.location])


RULE = Rule(
    code="QRY001",
    name="query-in-loop",
    summary="A query runs once per item of a loop (N+1 queries)",
    check=check,
    options=Options,
)
