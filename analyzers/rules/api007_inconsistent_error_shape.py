"""## What it does
Collects the error responses of the project (answers with a 4xx/5xx status whose body keys are known, raised
`HTTPException`s and DRF exceptions, which their framework renders as `{"detail": ...}`, the bodies of registered
exception handlers, and calls to a project helper such as `error_response(...)`, whose body is the helper's) and,
when one shape (the set of top-level keys) clearly dominates, reports the error responses shaped otherwise, naming
the usual shape and where it comes from.

Nothing is reported with fewer than three error responses, or when no shape holds at least half of them, and a
body that holds every key of the usual shape and more (`{"detail": ..., "retry_after": 30}` beside `{"detail": ...}`)
is not reported: clients still find what they read. A
custom handler for `HTTPException` (or DRF's `EXCEPTION_HANDLER`) gives raised exceptions its own shape, so they
are then counted by that handler's body, or not at all. Validation errors rendered by the framework (a
serializer's `errors`) are not counted.

## Why it matters
Clients handle errors in one place. When one endpoint answers `{"detail": "..."}` and another
`{"error": {"message": "..."}}`, every client needs a special case per endpoint, and the error that was not
anticipated is shown to users as "undefined".

## Example
```python
@router.get("/orders/{order_id}")
def get_order(order_id: int):
    raise HTTPException(404, "order not found")          # {"detail": ...}, like the rest of the API

@router.post("/orders")
def create_order(payload: OrderIn):
    return JSONResponse({"error": "out of stock"}, status_code=409)   # reported
```

## Use instead
```python
    raise HTTPException(409, "out of stock")
```
There is no automatic fix; "Fix with agent" can rewrite the response the project's way.

## Options
- `min-sites`: the fewest error responses before shapes are compared (default 3).
- `dominance`: the share of error responses the usual shape must hold (default 0.5; it must also be the single
  most common shape).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Finding, Location, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import sites_by_function, status_number


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_sites: int = Field(3, ge=2)
    dominance: float = Field(0.5, gt=0, le=1)


@dataclass(frozen=True, slots=True)
class ErrorSite:
    site: CallSite
    shape: str  # sorted keys, comma-separated
    origin: str  # where the shape comes from, for the message
    origin_location: Location | None = None


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    sites = error_sites(project)
    if len(sites) < options.min_sites:
        return
    counts = Counter(site.shape for site in sites)
    (usual, count), *rest = counts.most_common()
    if count / len(sites) < options.dominance or (rest and rest[0][1] == count):
        return
    representative = next(site for site in sites if site.shape == usual)
    usual_keys = set(usual.split(", "))
    ordinals: Counter[str] = Counter()
    for error in sites:
        # `{detail, retry_after}` beside the usual `{detail}` extends it: a client reading `detail` still finds it.
        if usual_keys <= set(error.shape.split(", ")):
            continue
        key = f"{error.site.function}:{error.shape}"
        ordinals[key] += 1
        related = [representative.origin_location] if representative.origin_location else []
        yield RULE.finding(
            f"error body {{{error.shape}}} differs from the project's usual {{{usual}}} "
            f"({representative.origin}; {count} of {len(sites)} error responses)",
            error.site.location, f"{key}:{ordinals[key]}", related=related)


def error_sites(project: Project) -> list[ErrorSite]:
    responses = sites_by_function(project, "response")
    on_path = project.request_path()
    custom = custom_http_shape(responses)
    drf_custom = bool(project.settings.get("drf.exception_handler"))
    found: list[ErrorSite] = []
    for function, sites in sorted(responses.items()):
        for site in sites:
            in_handler = site.detail.get("error_handler") == "true"
            if function not in on_path and not in_handler:
                continue
            error = classify(site, responses, in_handler, custom, drf_custom)
            if error is not None:
                found.append(error)
    return found


def classify(site: CallSite, responses: dict[str, list[CallSite]], in_handler: bool, custom: str | None,
             drf_custom: bool) -> ErrorSite | None:
    detail = site.detail
    default = detail.get("default_shape")
    if default:
        if default.startswith("DRF"):
            return None if drf_custom else ErrorSite(site, "detail", default)
        if custom is not None:
            return ErrorSite(site, custom, "the project's HTTPException handler") if custom else None
        return ErrorSite(site, "detail", default)
    helper = detail.get("helper")
    if helper:
        return helper_site(site, helper, responses)
    keys = detail.get("keys", "")
    status = status_number(detail.get("status"))
    if not keys or detail.get("raised") == "true" or not (in_handler or (status is not None and status >= 400)):
        return None
    name = site.function.rsplit(".", 1)[-1] if site.function else "a handler"
    origin = f"{name}() exception handler" if in_handler else f"{name}()"
    return ErrorSite(site, shape_of(keys), f"e.g. {origin}", site.location)


def helper_site(site: CallSite, helper: str, responses: dict[str, list[CallSite]]) -> ErrorSite | None:
    """A call to a project helper answers the helper's body: an error when a 4xx/5xx status is passed to it or
    its every answer is error-shaped."""
    answers = [other for other in responses.get(helper, []) if other.detail.get("raised") != "true"]
    shapes = {other.detail.get("keys", "") for other in answers}
    if len(shapes) != 1 or not next(iter(shapes)):
        return None
    status = status_number(site.detail.get("helper_status"))
    if not (status is not None and status >= 400) and not all(other.detail.get("error") for other in answers):
        return None
    name = helper.rsplit(".", 1)[-1]
    return ErrorSite(site, shape_of(next(iter(shapes))), f"{name}() helper", answers[0].location)


def custom_http_shape(responses: dict[str, list[CallSite]]) -> str | None:
    """The body shape of a registered HTTPException handler: None when there is none, "" when its shape is not
    one literal."""
    handlers = [site for sites in responses.values() for site in sites
                if site.detail.get("error_handler") == "true" and
                site.detail.get("handles", "").rsplit(".", 1)[-1].endswith("HTTPException")]
    if not handlers:
        return None
    shapes = {shape_of(site.detail.get("keys", "")) for site in handlers}
    return next(iter(shapes)) if len(shapes) == 1 else ""


def shape_of(keys: str) -> str:
    return ", ".join(sorted(key for key in keys.split(",") if key))


RULE = Rule(
    code="API007",
    name="inconsistent-error-shape",
    summary="Error responses are shaped differently from the project's usual error body",
    check=check,
    options=Options,
)
