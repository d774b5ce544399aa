"""## What it does
Flags a service with HTTP endpoints but no health-check endpoint: no route whose path (after `/api` and version
prefixes) is `health`, `healthz`, `livez`, `readyz`, `ready`, `live`, `ping`, `status` or `heartbeat`
(`/health/live` too), no health route declared some other way (a Starlette `Route("/healthz", ...)`, an
`add_url_rule`), and no health-check library (fastapi-health, django-health-check or `health_check` in
`INSTALLED_APPS`, django-watchman, flask-healthz, healthcheck). The finding stands where the app is created
(`FastAPI(...)`, `Flask(__name__)`) or at the Django root URL configuration.

## Why it matters
Load balancers, orchestrators and uptime monitors need a cheap endpoint that says whether this instance can
serve. Without one they probe a real endpoint (slow, with side effects, behind auth) or nothing at all, and a
broken instance keeps receiving traffic.

## Example
```python
app = FastAPI()
app.include_router(orders.router)
```

## Use instead
```python
app = FastAPI()
app.include_router(orders.router)

@app.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}
```
There is no automatic fix: what "healthy" means (database reachable, queue connected) is the team's call.

## Options
- `paths`: the last path segments that name a health check (default: health, healthz, healthcheck, livez,
  readyz, ready, readiness, live, liveness, alive, ping, status, heartbeat).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import app_location, segments, serving_app

DEFAULT_PATHS = ["health", "healthz", "healthcheck", "health-check", "health_check", "livez", "readyz", "ready",
                 "readiness", "live", "liveness", "alive", "ping", "status", "heartbeat"]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paths: list[str] = DEFAULT_PATHS


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    if not project.endpoints:
        return
    words = {word.lower() for word in options.paths}
    if any(is_health(endpoint.path, words) for endpoint in project.endpoints):
        return
    if any(call.detail.get("what") == "health" for call in project.calls_of("server_evidence")):
        return
    app = serving_app(project)
    where = app_location(app.location, app.detail.get("urls_at")) if app else project.endpoints[0].location
    name = app.name if app else "endpoints"
    count = len(project.endpoints)
    yield RULE.finding(f"the service has {count} endpoint{'s' if count != 1 else ''} but no health check "
                       "(e.g. GET /health) for load balancers and orchestrators", where, name)


_VERSION = re.compile(r"v\d+(\.\d+)?")


def is_health(path: str, words: set[str]) -> bool:
    parts = segments(path)
    while parts and (parts[0] == "api" or _VERSION.fullmatch(parts[0])):
        parts = parts[1:]
    return bool(parts) and len(parts) <= 2 and parts[0] in words


RULE = Rule(
    code="SRV001",
    name="no-health-check",
    summary="A service with HTTP endpoints has no health-check endpoint",
    check=check,
    options=Options,
)
