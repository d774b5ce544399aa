"""## What it does
Flags a `GET` endpoint that returns a collection the client cannot page through.

Pagination is recognised wherever it lives: query parameters in the handler (`limit`/`offset`, `page`/
`per_page`, `cursor`, ...), the same parameters declared by a dependency (FastAPI `Depends(...)` chains across
modules), a paginator (`paginate(...)`, Flask-SQLAlchemy `.paginate()`, DRF `paginate_queryset`), a paged
response model (`Page[Item]`), a view's `pagination_class` or DRF's global `DEFAULT_PAGINATION_CLASS`.
A constant cap such as `.limit(20)` or `[:20]` is not pagination: it bounds the response, but the client can
never reach the rest, so the endpoint is still reported.

## Why it matters
A list endpoint without pagination returns every row. It is fast with the ten rows of a development database
and times out, exhausts memory or floods the client once the table grows, and adding pagination later breaks
every client that relied on getting everything.

## Example
```python
@router.get("/orders", response_model=list[OrderOut])
def list_orders(db: Session = Depends(get_db)):
    return db.query(Order).all()
```

## Use instead
```python
@router.get("/orders", response_model=list[OrderOut])
def list_orders(db: Session = Depends(get_db), limit: int = Query(50, ge=1, le=200),
                offset: int = Query(0, ge=0)):
    return db.query(Order).offset(offset).limit(limit).all()
```
The fix (FastAPI, where the handler's own query can take them) adds bounded `limit`/`offset` parameters and
applies them to the query. Elsewhere there is no deterministic fix; "Fix with agent" can add the project's
pagination style.

## Options
- `parameters`: query parameter names that count as pagination (default: limit, offset, page, per_page,
  page_size, size, cursor, skip, take, after, before, start, count, max_results, page_token, starting_after,
  ending_before, next, pageSize, perPage, pageToken).
- `default-page-size` / `max-page-size`: the bounds the fix writes (default 50 and 200).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Endpoint, Finding, Fix, Project, Span, TextEdit
from analyzers.rules import Rule
from analyzers.rules._fixes import ImportPlanner

DEFAULT_PARAMETERS = [
    "limit", "offset", "page", "per_page", "page_size", "size", "cursor", "skip", "take", "after", "before",
    "start", "count", "max_results", "page_token", "starting_after", "ending_before", "next", "pageSize",
    "perPage", "pageToken",
]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: list[str] = DEFAULT_PARAMETERS
    default_page_size: int = 50
    max_page_size: int = 200


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    names = {name.lower() for name in options.parameters}
    for endpoint in project.endpoints:
        if endpoint.returns != "collection" or "GET" not in endpoint.methods:
            continue
        if endpoint.pagination or pagination_parameters(endpoint, names):
            continue
        what = f" ({endpoint.returns_detail})" if endpoint.returns_detail else ""
        message = f"GET {endpoint.path or '/'} returns a list{what} the client cannot page through"
        if endpoint.hard_cap:
            message += f"; the constant {endpoint.hard_cap} caps it, but the rest is unreachable"
        yield RULE.finding(message, endpoint.location, f"GET {endpoint.path}",
                           fix=pagination_fix(endpoint, options))


def pagination_parameters(endpoint: Endpoint, names: set[str]) -> list[str]:
    """Query parameters with a pagination name, declared by the handler or by a dependency it uses (a
    parameter that *is* a dependency, like `page: PageParams = Depends()`, counts only through what it declares).
    """
    return [parameter.name for parameter in endpoint.parameters
            if parameter.name.lower() in names
            and (parameter.source in ("query", "unknown") or (parameter.source == "dependency" and parameter.via))]


def pagination_fix(endpoint: Endpoint, options: Options) -> Fix | None:
    """FastAPI only: bounded limit/offset parameters, applied to the handler's own unpaged query."""
    if endpoint.framework != "fastapi" or endpoint.parameters_anchor is None:
        return None
    queries = [query for query in endpoint.queries if query.kind == "all" and query.insert_anchor is not None]
    taken = {parameter.name for parameter in endpoint.parameters}
    if len(queries) != 1 or taken & {"limit", "offset"}:
        return None
    path = endpoint.location.path
    planner = ImportPlanner(path, endpoint.file_imports, endpoint.imports_line)
    query_param = planner.name("fastapi.Query")
    separator = "" if endpoint.parameters_empty else ", "
    parameters = (f"{separator}limit: int = {query_param}({options.default_page_size}, ge=1, "
                  f"le={options.max_page_size}), offset: int = {query_param}(0, ge=0)")
    anchor = endpoint.parameters_anchor.span.start
    query_anchor = queries[0].insert_anchor
    assert query_anchor is not None
    edits = [
        *planner.edits(),
        TextEdit(path, Span(anchor, anchor), parameters),
        TextEdit(query_anchor.path, Span(query_anchor.span.start, query_anchor.span.start),
                 ".offset(offset).limit(limit)"),
    ]
    return Fix("Add limit/offset pagination", edits=tuple(edits))


RULE = Rule(
    code="API001",
    name="list-endpoint-without-pagination",
    summary="An endpoint returns a collection and the client cannot page through it",
    check=check,
    options=Options,
    fixable=True,
)
