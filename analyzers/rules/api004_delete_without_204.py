"""## What it does
Flags `DELETE` endpoints that answer `200 OK` with an acknowledgement body (`{"message": "deleted"}`,
`{"ok": True}`, a string, or FastAPI's `null` for a handler that returns nothing) instead of `204 No Content`.
The status comes from the route (`status_code=`), the responses (`return "", 204`, `Response(status=204)`,
`JSONResponse(..., status_code=...)`), or the framework: DRF's own `destroy` (DestroyModelMixin) answers 204 and
is never reported. Returning the deleted resource itself is a documented choice (200 with a representation)
and is not reported unless `flag-representations` is set.

## Why it matters
A client should not have to parse a body to learn that a deletion worked: 204 says it, and says there is
nothing more to read. An acknowledgement body with 200 is one more response shape to document and keep
stable, and FastAPI's default answers a bare `return` with the JSON text `null`.

## Example
```python
@router.delete("/orders/{order_id}")
def delete_order(order_id: int, db: Session = Depends(get_db)):
    db.delete(db.get(Order, order_id))
    db.commit()
    return {"message": "Order deleted"}
```

## Use instead
```python
@router.delete("/orders/{order_id}", status_code=204)
def delete_order(order_id: int, db: Session = Depends(get_db)) -> None:
    db.delete(db.get(Order, order_id))
    db.commit()
```
The fix (FastAPI, only for a handler that returns nothing) adds `status_code=204` to the route decorator;
FastAPI then sends no body. It is marked unsafe: clients that test for 200 must be updated.

## Options
- `flag-representations`: also report a DELETE that returns the deleted resource with 200 (default false).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Endpoint, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import describe, keyword_fix, sites_by_function, status_number


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flag_representations: bool = False


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    responses = sites_by_function(project, "response", "status_set")
    for endpoint in project.endpoints:
        if "DELETE" not in endpoint.methods or endpoint.framework == "django":
            continue
        if endpoint.status_code is not None and endpoint.status_code != 200:
            continue
        sites = responses.get(endpoint.handler, [])
        if any(site.kind == "status_set" for site in sites):
            continue
        answers = [site for site in sites if site.kind == "response" and site.detail.get("raised") != "true"
                   and not site.detail.get("error") and (status_number(site.detail.get("status")) or 200) < 400]
        if any(site.detail.get("status") == "dynamic" or site.detail.get("helper") for site in answers):
            continue
        bodies = [site for site in answers if (status_number(site.detail.get("status")) or 200) == 200]
        if not answers and endpoint.framework == "fastapi" and endpoint.returns in ("none", "unknown"):
            yield finding(endpoint, "null (the handler returns nothing)", only_none=True)
            continue
        if not bodies or len(bodies) != len(answers):
            continue
        body = acknowledgement(bodies, endpoint, options)
        if body is not None:
            only_none = all(site.detail.get("body") == "none" for site in bodies)
            yield finding(endpoint, body, only_none)


def acknowledgement(bodies: list[CallSite], endpoint: Endpoint, options: Options) -> str | None:
    """What the 200 answers carry when it is only an acknowledgement (or anything, with flag-representations)."""
    kinds = {site.detail.get("body") for site in bodies}
    if kinds <= {"none"}:
        return "null (the handler returns nothing)" if endpoint.framework == "fastapi" else None
    if kinds <= {"none", "ack"}:
        keys = next((site.detail.get("keys") for site in bodies if site.detail.get("keys")), "")
        return "{" + keys.replace(",", ", ") + "}" if keys else "a message"
    if options.flag_representations and "empty" not in kinds:
        return "the deleted resource"
    return None


def finding(endpoint: Endpoint, body: str, only_none: bool) -> Finding:
    fix = keyword_fix(endpoint, "status_code=204", "Answer 204 No Content") if only_none and \
        endpoint.status_code is None else None
    return RULE.finding(f"{describe(endpoint)} answers 200 with {body}: answer 204 No Content",
                        endpoint.location, f"DELETE {endpoint.path}", fix=fix)


RULE = Rule(
    code="API004",
    name="delete-without-204",
    summary="A DELETE endpoint answers 200 with an acknowledgement body instead of 204 No Content",
    check=check,
    options=Options,
    fixable=True,
)
