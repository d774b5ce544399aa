"""## What it does
Flags a whole table read into memory while serving a request, with no filter, `WHERE`, limit or slice:
`session.query(Order).all()`, `Order.query.all()`, `session.scalars(select(Order)).all()`,
`session.exec(select(Order)).all()`, and Django `Order.objects.all()` once it is materialised (`list()`,
`len()`, iteration, a serializer with `many=True`). Ordering, eager loading and column selection do not bound
a query; `filter`, `where`, `get`, `first`, `limit`, `paginate` or a slice do, also when a statement built step by
step gets them later (`stmt = stmt.where(...)`, or `stmt = restrict(stmt, user)`, a function that may filter it),
unconditionally or in every branch of an `if`/`else` (`if f: stmt = stmt.where(f)` alone leaves the unfiltered path).

Not reported: rows a `GET` endpoint returns (whether they need paging is `list-endpoint-without-pagination`'s
finding, API001), a lazy Django queryset returned unevaluated (`get_queryset`), aggregates (`select(func.count())`),
and code outside request paths (jobs and scripts may need every row).

## Why it matters
The query grows with the table: fine with a hundred rows, a timeout and a memory spike with a million, on every
request. `len(Order.query.all())` loads every row to count them where `count()` asks the database for one
number.

## Example
```python
@router.post("/orders/{order_id}/ship")
def ship(order_id: int, db: Session = Depends(get_db)):
    couriers = db.query(Courier).all()
    courier = next(c for c in couriers if c.region == region_of(order_id))
```

## Use instead
```python
    courier = db.scalars(select(Courier).where(Courier.region == region_of(order_id)).limit(1)).first()
```
The fix rewrites `len(<query>.all())` as `<query>.count()` (and `len(Model.objects.all())` as
`Model.objects.count()`). Other cases need a filter only the code's intent can tell.

## Options
- `ignore-models`: models read whole on purpose, e.g. small lookup tables (`Country`, `Currency`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Fix, Project, TextEdit, decode_span
from analyzers.rules import Rule
from analyzers.rules._http_rules import endpoint_of
from analyzers.rules.qry00_shared import (
    is_test_or_migration,
    ordinal_fingerprints,
    serving,
    short_name,
)


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ignore_models: list[str] = []


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    ignored = set(options.ignore_models)
    sites = [site for site in project.calls_of("db_read_all")
             if site.detail.get("model") not in ignored and serving(project, site.function) is not None
             and not is_test_or_migration(site.location.path)
             and not _listed_by_endpoint(project, site)]
    names = ordinal_fingerprints(sites, "model")
    for site in sites:
        model = site.detail.get("model", "?")
        label = site.detail.get("label", site.callee)
        how = site.detail.get("how", "")
        fix = _count_fix(site)
        if site.detail.get("counted"):
            message = (f"{label} loads every {model} row to count them in {short_name(site.function)}; "
                       "a count query asks the database for the number")
        else:
            materialised = f" ({how})" if how and how != "all()" else ""
            message = (f"{label} reads the whole {model} table{materialised} while serving "
                       f"{serving(project, site.function)}: filter it, limit it, or page through it")
        yield RULE.finding(message, site.location, f"{names[id(site)]}.all", fix=fix)


def _listed_by_endpoint(project: Project, site: CallSite) -> bool:
    """The rows are what a GET endpoint returns: whether to page them is API001's finding, not this one's."""
    if site.function is None:
        return False
    handler = project.request_path().get(site.function)
    endpoint = endpoint_of(project, handler) if handler else None
    if endpoint is None or "GET" not in endpoint.methods:
        return False
    return site.detail.get("returned") == "true"


def _count_fix(site: CallSite) -> Fix | None:
    span = decode_span(site.detail.get("count_span"))
    text = site.detail.get("count_text")
    if span is None or not text:
        return None
    return Fix(f"Count in the database ({text})", edits=(TextEdit(site.location.path, span, text),))


RULE = Rule(
    code="QRY005",
    name="unbounded-table-read",
    summary="A request reads a whole table into memory with no filter or limit",
    check=check,
    options=Options,
    fixable=True,
)
