"""## What it does
Flags a page-size parameter the client can set with no upper bound: `limit: int = 50` or `Query(50)` without
`le=`, `request.args.get("per_page", type=int)` never clamped, and DRF pagination classes that let the client
choose the size (`page_size_query_param`, `LimitOffsetPagination`) without `max_page_size` / `max_limit`,
including `LimitOffsetPagination` as `DEFAULT_PAGINATION_CLASS`.

A bound counts wherever it is written: `Query(50, le=200)`, `Annotated[int, Query(le=200)]`, `conint(le=200)`,
`Field(50, le=200)` on a class used as a dependency, a clamp in the body (`limit = min(limit, 200)`, `if limit > 200:
limit = 200`), a guard that refuses larger values (`if limit > 200: raise HTTPException(422)`, or `abort(400)`) in
the handler, in the dependency that gives the value or in a function of the handler's module it hands the value to
(`page_rows(rows, limit=limit)` doing `min(limit, 200)`), or Flask-SQLAlchemy's `paginate(..., per_page=n)`, which caps
it (`max_per_page`, 100 by default). A helper that returns the marker (`limit: int = LimitBody()` where `LimitBody`
returns `Depends(get_limit)` or `Query(50, le=200)`) is read for what it returns, in any module.

## Why it matters
Pagination only protects the database and the client when the page has a size limit: `?limit=1000000` turns a
paged endpoint back into "return every row", and anyone can use it to load the server.

## Example
```python
@router.get("/orders")
def list_orders(limit: int = Query(50), offset: int = 0): ...
```

## Use instead
```python
def list_orders(limit: int = Query(50, ge=1, le=200), offset: int = 0): ...
```
The fix adds `le=<max-page-size>` to a FastAPI `Query(...)` (or turns `limit: int = 50` into `Query(50, le=...)`)
and adds `max_page_size` / `max_limit` to a DRF pagination class. It is marked unsafe: larger requests are
refused (FastAPI) or cut (DRF) from then on.

## Options
- `parameters`: the names that set a page size (default: limit, per_page, page_size, size, take, count,
  max_results, pageSize, perPage, page_limit). `size`, `count` and `take` count only with an `int` type or
  default on an endpoint that pages, since they often mean something else.
- `max-page-size`: the bound the fix writes (default 200).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Endpoint, Finding, Fix, Parameter, Position, Project, Span, TextEdit
from analyzers.rules import Rule
from analyzers.rules._fixes import ImportPlanner
from analyzers.rules._http_rules import describe

DEFAULT_PARAMETERS = ["limit", "per_page", "page_size", "size", "take", "count", "max_results", "pageSize",
                      "perPage", "page_limit"]
# Names that may mean something else (a thumbnail size, a "count=true" flag): only with an int type or default,
# on an endpoint that pages (returns a list, or takes a page/offset/cursor parameter too).
AMBIGUOUS = frozenset({"size", "count", "take"})
PAGE_COMPANIONS = frozenset({"page", "offset", "skip", "cursor", "after", "before", "start", "page_token"})


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: list[str] = DEFAULT_PARAMETERS
    max_page_size: int = Field(200, ge=1)


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    names = {name.lower() for name in options.parameters}
    reported: set[tuple[str, int, int]] = set()
    for endpoint in project.endpoints:
        paged = endpoint.returns == "collection" or bool(endpoint.pagination) or any(
            parameter.name.lower() in PAGE_COMPANIONS for parameter in endpoint.parameters)
        for parameter in endpoint.parameters:
            if not unbounded(parameter, names) or parameter.location is None:
                continue
            if parameter.name.lower() in AMBIGUOUS and not paged:
                continue
            start = parameter.location.span.start
            key = (parameter.location.path, start.line, start.column)
            if key in reported:
                continue  # one dependency or helper serves several endpoints: report it once
            reported.add(key)
            yield RULE.finding(
                f"{describe(endpoint)} lets the client set the page size `{parameter.name}` with no upper bound",
                parameter.location, f"{parameter.via or endpoint.handler}:{parameter.name}",
                fix=bound_fix(endpoint, parameter, options))
    for site in project.calls_of("pagination_class"):
        if not site.detail.get("max"):
            yield pagination_class_finding(site, options)


def unbounded(parameter: Parameter, names: set[str]) -> bool:
    if parameter.name.lower() not in names or parameter.upper_bound is not None:
        return False
    if parameter.source not in ("query", "dependency", "unknown") or \
            (parameter.source == "dependency" and parameter.via is None):
        return False
    annotation = (parameter.annotation or "").replace(" ", "")
    if annotation:
        return any(annotation.startswith(kind) for kind in ("int", "Optional[int]", "int|None", "Annotated[int",
                                                             "typing.Optional[int]"))
    return parameter.name.lower() not in AMBIGUOUS or (parameter.default or "").isdigit()


def bound_fix(endpoint: Endpoint, parameter: Parameter, options: Options) -> Fix | None:
    if endpoint.framework != "fastapi":
        return None
    bound = f"le={options.max_page_size}"
    if parameter.marker_anchor is not None:
        at = parameter.marker_anchor.span.start
        separator = ", " if parameter.marker_has_arguments else ""
        return Fix(f"Bound {parameter.name} with {bound}",
                   edits=(TextEdit(parameter.marker_anchor.path, Span(at, at), f"{separator}{bound}"),), safe=False)
    where = parameter.default_location
    if where is None or parameter.default is None or not parameter.default.lstrip("-").isdigit():
        return None
    planner = ImportPlanner(where.path, endpoint.file_imports if where.path == endpoint.location.path else {},
                            endpoint.imports_line)
    if where.path != endpoint.location.path:
        return None
    query = planner.name("fastapi.Query")
    edits = (*planner.edits(), TextEdit(where.path, where.span, f"{query}({parameter.default}, ge=1, {bound})"))
    return Fix(f"Bound {parameter.name} with {bound}", edits=edits, safe=False)


def pagination_class_finding(site: CallSite, options: Options) -> Finding:
    detail = site.detail
    attribute = detail.get("attribute", "max_page_size")
    if detail.get("setting"):
        return RULE.finding("DEFAULT_PAGINATION_CLASS = LimitOffsetPagination lets the client choose any `limit`: "
                            "use a subclass with `max_limit`", site.location, "setting:DEFAULT_PAGINATION_CLASS")
    fix = None
    if "insert_line" in detail:
        at = Position(int(detail["insert_line"]), 0)
        text = f"{detail.get('indent', '    ')}{attribute} = {options.max_page_size}\n"
        fix = Fix(f"Add {attribute} = {options.max_page_size}", edits=(TextEdit(site.location.path, Span(at, at),
                                                                                   text),), safe=False)
    return RULE.finding(f"{detail.get('name', site.callee)} lets the client choose the page size "
                        f"({detail.get('client_size')}) with no `{attribute}`", site.location,
                        f"class:{site.callee}", fix=fix)


RULE = Rule(
    code="API008",
    name="page-size-without-limit",
    summary="The client can set a page size with no upper bound",
    check=check,
    options=Options,
    fixable=True,
)
