"""## What it does
Flags request bodies read by hand instead of through a validated schema, in handlers and in the functions they
call: `await request.json()`, Flask's `request.get_json()` / `request.json` / `request.form[...]`, DRF's
`request.data[...]` in a function that never calls a serializer's `is_valid()`, and a FastAPI body parameter
typed `dict`, `Dict[str, Any]` or `Any = Body(...)`.

A read is fine when the same function validates what it read: it builds a schema or model from it
(`OrderIn(**data)`, `OrderIn.model_validate(data)`, `schema.load(data)`, `OrderSerializer(data=...)` +
`is_valid()`, `form.validate_on_submit()`), or the route declares its input (flask-smorest `@blp.arguments`,
webargs `@use_args`, Flask-Pydantic `@validate`, `@expects_json`). Form posts of server-rendered pages (a function
that renders a template) and webhook endpoints are not reported.

## Why it matters
An unvalidated body fails deep inside the code (a `KeyError` becomes a 500), accepts wrong types and unknown
fields silently, and leaves the API without a documented contract. A schema rejects bad input with a clear 4xx
at the door and documents the request in OpenAPI.

## Example
```python
@router.post("/orders")
async def create_order(request: Request):
    payload = await request.json()
    return service.create(payload["customer_id"], payload["items"])
```

## Use instead
```python
class OrderIn(BaseModel):
    customer_id: int
    items: list[LineIn]

@router.post("/orders")
async def create_order(payload: OrderIn):
    return service.create(payload.customer_id, payload.items)
```
There is no automatic fix: the schema must say what the endpoint accepts.

## Options
- `exempt-paths`: path segments whose endpoints may read raw bodies (default: webhook, webhooks, callback,
  callbacks).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Endpoint, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import describe, path_mentions


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exempt_paths: list[str] = ["webhook", "webhooks", "callback", "callbacks"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    by_handler: dict[str, Endpoint] = {}
    for endpoint in project.endpoints:
        by_handler.setdefault(endpoint.handler, endpoint)
    on_path = project.request_path()
    for site in project.calls_of("raw_body"):
        if site.function is None or site.detail.get("validated"):
            continue
        handler = site.function if site.detail.get("param") else on_path.get(site.function)
        found = by_handler.get(handler or "")
        if found is None or handler == site.function and declares_input(found):
            continue
        if path_mentions(found.path, options.exempt_paths):
            continue
        how = site.detail.get("how", site.callee)
        where = "" if handler == site.function else f" (in {site.function.rsplit('.', 1)[-1]}(), which it calls)"
        yield RULE.finding(f"{describe(found)} reads the request body by hand ({how}){where} without "
                           "validating it: declare a schema for it", site.location, f"{site.function}:{how}")


def declares_input(endpoint: Endpoint) -> bool:
    """The route declares a validated input (a schema decorator, a model parameter); a DRF view's
    `serializer_class` says nothing about a method that reads `request.data` itself."""
    return any(not item.startswith("serializer_class") for item in endpoint.validation)


RULE = Rule(
    code="API006",
    name="unvalidated-request-body",
    summary="A request body is read by hand instead of through a validated schema",
    check=check,
    options=Options,
)
