"""## What it does
Flags API routes that carry no version. With the default `style = "path"`, a route is versioned when its full
path (router, blueprint and `include()` prefixes composed across files) has a version segment such as `/v1`,
`/api/v2/...`, `/v1.1` or a `{version}` parameter. A route served under several prefixes counts as versioned
when one of them is.

Routes are reported together: when no route of the API is versioned, one finding stands where the app is
created (or at Django's root URL configuration); when every route of a router, blueprint or URL configuration
lacks a version, one finding stands where that router is created (or where the URL configuration is included),
since one prefix there versions them all. Routes of a group that is partly versioned are reported one by one.

A prefix whose value cannot be known (`prefix=settings.API_V1_STR`, a constant from another module) may hold
the version and is not reported. Health checks, metrics, documentation (`/docs`, `/openapi.json`), admin,
static files and the root path are exempt. A project that versions another way (it reads an `Accept-Version`/
`API-Version` header or a versioned media type, sets DRF's `DEFAULT_VERSIONING_CLASS`, or uses
fastapi-versioning or Cadwyn) is not reported in path style.

## Why it matters
An unversioned API cannot change a response shape or remove a field without breaking every client at once.
Adding a version later means moving every route and every client; starting with `/v1` costs nothing.

## Example
```python
router = APIRouter(prefix="/orders")

@router.get("/{order_id}")
def get_order(order_id: int): ...
```

## Use instead
```python
router = APIRouter(prefix="/v1/orders")
```
There is no automatic fix: where the version goes (the router, the include, the app's root path) is a choice
for the team.

## Options
- `style`: `"path"` (default), `"header"` (the project must read a version header somewhere; nothing is
  checked per route) or `"query"` (each route takes a `version`/`api-version` query parameter).
- `exempt`: path segments whose routes need no version (default: health, healthz, healthcheck, health-check,
  health_check, livez, readyz, ready, live, ping, status, heartbeat, metrics, docs, redoc, openapi,
  openapi.json, swagger, schema, admin, static, media, favicon.ico, robots.txt, .well-known).
- `query-parameters`: the names that carry a version in query style (default: version, api-version,
  api_version, v).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from analyzers.model import Endpoint, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import app_location, describe, segments, serving_app

DEFAULT_EXEMPT = [
    "health", "healthz", "healthcheck", "health-check", "health_check", "livez", "readyz", "ready", "live", "ping",
    "status", "heartbeat", "metrics", "docs", "redoc", "openapi", "openapi.json", "swagger", "schema", "admin",
    "static", "media", "favicon.ico", "robots.txt", ".well-known",
]
_VERSION_SEGMENT = re.compile(
    r"^(api-?)?v\d+([._]\d+)*([a-z]+\d*)?$|^[{<](\w+:)?(api_)?version[}>]$|^\d{4}-\d{2}-\d{2}$")
# A prefix the extractor could not resolve (`{settings.API_V1_STR}`, `{API_PREFIX}`): it may well hold the
# version, so the route is not reported. Path parameters are plain lower-case names (`{order_id}`).
_UNKNOWN_PREFIX = re.compile(r"^\{[^}]*([.A-Z(][^}]*)\}$")
OTHER_SCHEMES = ("versioning", "version_header", "version_query")


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    style: Literal["path", "header", "query"] = "path"
    exempt: list[str] = DEFAULT_EXEMPT
    query_parameters: list[str] = ["version", "api-version", "api_version", "v"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    wanted = {word.lower() for word in options.exempt}
    endpoints = [endpoint for endpoint in project.endpoints if not exempt(endpoint.path, wanted)]
    if not endpoints:
        return
    evidence = [call for call in project.calls_of("server_evidence") if call.detail.get("what") in OTHER_SCHEMES]
    if options.style == "header":
        if not any(call.detail.get("what") in ("version_header", "versioning") for call in evidence):
            where = project.apps[0].location if project.apps else endpoints[0].location
            yield RULE.finding("the API reads no version header (e.g. `Accept-Version`): clients cannot ask for a "
                               "version", where, "header")
        return
    if evidence:
        return
    versioned = versioned_handlers(endpoints, options)
    app = serving_app(project)
    if not versioned and app is not None and len(endpoints) > 1:
        # Nothing is versioned: one prefix where the app mounts its routes versions them all.
        what = "a version segment such as /v1" if options.style == "path" else "a version query parameter"
        yield RULE.finding(f"none of the {len(endpoints)} routes of the API carries {what}: add it where the "
                           "routes are mounted", app_location(app.location, app.detail.get("urls_at")),
                           f"app:{app.name}")
        return
    yield from group_findings([e for e in endpoints if e.handler not in versioned], endpoints, options)


def versioned_handlers(endpoints: list[Endpoint], options: Options) -> set[str]:
    """Handlers served with a version on at least one of their paths."""
    names = {name.lower() for name in options.query_parameters}
    if options.style == "query":
        return {endpoint.handler for endpoint in endpoints
                if any(parameter.name.lower() in names and parameter.source in ("query", "unknown")
                       for parameter in endpoint.parameters)}
    return {endpoint.handler for endpoint in endpoints if any(map(_may_version, endpoint.path.split("/")))}


@lru_cache(maxsize=8192)  # a pure function of the segment; a router's routes share theirs
def _may_version(part: str) -> bool:
    """A version segment (`v1`, `{version}`, `2024-01-01`), or a prefix we cannot read that may hold one."""
    return bool(_VERSION_SEGMENT.match(part.lower()) or _UNKNOWN_PREFIX.match(part))


def group_findings(missing: list[Endpoint], every: list[Endpoint], options: Options) -> Iterator[Finding]:
    """One finding per group whose routes all miss a version; one per route in a partly versioned group."""
    groups: dict[str, list[Endpoint]] = defaultdict(list)
    for endpoint in every:
        groups[group_of(endpoint)].append(endpoint)
    missing_by_group: dict[str, list[Endpoint]] = defaultdict(list)
    for endpoint in missing:
        missing_by_group[group_of(endpoint)].append(endpoint)
    what = "a version segment such as /v1" if options.style == "path" else "a version query parameter"
    for group, lacking in missing_by_group.items():
        handlers = {endpoint.handler for endpoint in lacking}
        if handlers == {endpoint.handler for endpoint in groups[group]} and len(lacking) > 1:
            first = lacking[0]
            where = first.group_location or first.location
            shown = ", ".join(describe(endpoint) for endpoint in lacking[:3])
            more = f" and {len(lacking) - 3} more" if len(lacking) > 3 else ""
            names = "+".join(sorted({endpoint.group or endpoint.location.path for endpoint in lacking}))
            yield RULE.finding(f"none of the {len(lacking)} routes declared here carries {what} ({shown}{more})",
                               where, f"group:{names}")
            continue
        for endpoint in lacking:
            yield RULE.finding(f"{describe(endpoint)} carries no version ({what})", endpoint.location,
                               f"{'/'.join(endpoint.methods)} {endpoint.path}")


def group_of(endpoint: Endpoint) -> str:
    """Routes that one edit versions together: those of a router or URL configuration, and several groups
    included at the same place."""
    where = endpoint.group_location
    if where is not None:
        return f"{where.path}:{where.span.start.line}:{where.span.start.column}"
    return endpoint.group or f"file:{endpoint.location.path}"


def exempt(path: str, wanted: set[str]) -> bool:
    """The path's first segment after `/api` is one of the (lower-case) `wanted` words."""
    parts = segments(path)
    while parts and parts[0] == "api":
        parts = parts[1:]
    return not parts or parts[0] in wanted


RULE = Rule(
    code="API002",
    name="unversioned-routes",
    summary="API routes carry no version (path, header or query, as configured)",
    check=check,
    options=Options,
    severity="info",
)
