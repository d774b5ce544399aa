"""## What it does
Flags a handler that answers an error-shaped body with a success status: `{"error": ...}`, `{"errors": ...}`,
`{"success": False, ...}`, `{"ok": False}` or `{"status": "error"}` returned as a dict, through `jsonify(...)`,
`JSONResponse(...)`, DRF `Response(...)` or Django `JsonResponse(...)` without a 4xx/5xx status (Flask's
`return jsonify(error=...)` without `, 400`; FastAPI's returned dict without `status_code`).

Only bodies that are nothing but an error are reported: a body that also carries data (`{"results": [...],
"errors": [...]}` for a partly successful batch) is a design choice. An error key holding `None`, `False` or an
empty list means "no error" and is fine. A handler that sets the status elsewhere (`response.status_code = 400`,
a status computed at run time) is not reported, nor are GraphQL endpoints, which answer errors with 200 by
specification.

## Why it matters
Clients, proxies, retries, monitoring and caches decide on the status code. An error sent as 200 is counted as a
success, cached as one, never retried, and invisible in error-rate dashboards; every client must parse the body
to find out.

## Example
```python
@bp.post("/orders")
def create_order():
    if not request.json.get("items"):
        return jsonify(error="an order needs items")
    ...
```

## Use instead
```python
        return jsonify(error="an order needs items"), 400
```
There is no automatic fix: which 4xx applies (400, 404, 409, 422) depends on the error.

## Options
- `exempt-paths`: path segments whose endpoints may answer errors with 200 (default: graphql).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import describe, path_mentions, sites_by_function, status_number


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exempt_paths: list[str] = ["graphql"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    responses = sites_by_function(project, "response", "status_set")
    seen: set[str] = set()
    for endpoint in project.endpoints:
        if endpoint.handler in seen or path_mentions(endpoint.path, options.exempt_paths):
            continue
        seen.add(endpoint.handler)
        sites = responses.get(endpoint.handler, [])
        if any(site.kind == "status_set" for site in sites):
            continue
        for ordinal, site in enumerate(sites):
            reason = site.detail.get("error") or helper_error(site, responses)
            if site.kind != "response" or not reason or site.detail.get("raised") == "true":
                continue
            status = site.detail.get("status", "")
            if status == "dynamic":
                continue
            number = status_number(status) or endpoint.status_code or 200
            if number >= 300:
                continue
            keys = site.detail.get("keys") or next((other.detail.get("keys", "") for other in
                                                    responses.get(site.detail.get("helper", ""), [])), "")
            shown = "{" + keys.replace(",", ", ") + "}" if keys else "an error body"
            yield RULE.finding(
                f"{describe(endpoint)} answers an error ({reason} in {shown}) with status {number}: "
                "send a 4xx/5xx status", site.location,
                f"{endpoint.handler}:{ordinal}")


def helper_error(site: CallSite, responses: dict[str, list[CallSite]]) -> str:
    """A returned helper call (`return error("...")`) whose every answer is an error body with the default
    status, and to which no status is passed."""
    helper = site.detail.get("helper")
    if not helper or site.detail.get("helper_status"):
        return ""
    answers = [other for other in responses.get(helper, []) if other.kind == "response"]
    if not answers or any(other.detail.get("status") or not other.detail.get("error") for other in answers):
        return ""
    return f"{answers[0].detail['error']} from {helper.rsplit('.', 1)[-1]}()"


RULE = Rule(
    code="API005",
    name="error-with-success-status",
    summary="A handler answers an error-shaped body with a 2xx status",
    check=check,
    options=Options,
)
