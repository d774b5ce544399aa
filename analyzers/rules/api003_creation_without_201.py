"""## What it does
Flags `POST` endpoints that create a row but answer `200 OK`. An endpoint creates when its handler, or a
function it calls whose name says it creates (`create_order`, `repository.add`, `place_order`, followed through
the call graph; an insert in `log_activity()` is a side record), inserts: `session.add(...)`, `db.session.add(...)`,
`Model.objects.create(...)`, `Model(...).save()`, a serializer or form built with data and saved,
`insert(...)`, an `INSERT` statement, `insert_one(...)`. It answers 200 when neither the route (`status_code=`,
flask-smorest `@blp.response(201, ...)`) nor any of its responses (`return body, 201`, `JSONResponse(...,
status_code=201)`, DRF `Response(..., status=201)`, `response.status_code = 201`) says otherwise. DRF's own
`create` (CreateModelMixin) answers 201 and is never reported; redirects after a form post are fine, and so is a
handler that also answers `PUT` (it replaces the resource, creating it the first time: an upsert).

When most creation endpoints of the project that answer 201 send a `Location` header, one that answers 201
without it is reported too, so the project's convention holds everywhere (when only a few send it, there is no
convention to hold).

## Why it matters
`201 Created` tells clients, caches and API tooling that a resource now exists (and `Location` where it is).
A 200 reads as "nothing new", so generic clients cannot tell a creation from an update or a search, and the
OpenAPI document the framework generates describes the wrong status.

## Example
```python
@router.post("/orders")
def create_order(payload: OrderIn, db: Session = Depends(get_db)):
    order = Order(**payload.model_dump())
    db.add(order)
    db.commit()
    return order
```

## Use instead
```python
@router.post("/orders", status_code=201)
def create_order(payload: OrderIn, db: Session = Depends(get_db)):
    ...
```
The fix (FastAPI) adds `status_code=201` to the route decorator. It is marked unsafe: clients that test for
exactly 200 must be updated.

## Options
- `depth`: how many calls away from the handler an insert still counts (default 3).
- `check-location`: report 201 answers without `Location` when most of the project's 201 answers send it
  (default true).
- `action-words`: a path ending in one of these (`/orders/{id}/cancel`, `/auth/login`) is an action, not a
  creation, even when it writes rows (default: login, logout, token, refresh, cancel, approve, reject, confirm,
  verify, search, send, retry, reset, activate, archive, publish, close, complete, pay, refund, export, sync,
  webhook, callback, batch, bulk, run, trigger, rollback, install, ... ).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Endpoint, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import (
    describe,
    keyword_fix,
    reachable,
    segments,
    sites_by_function,
    status_number,
)

DEFAULT_ACTIONS = [
    "login", "logout", "signin", "token", "refresh", "cancel", "approve", "reject", "confirm", "verify", "search",
    "query", "send", "retry", "reset", "activate", "deactivate", "archive", "unarchive", "publish", "unpublish",
    "close", "reopen", "complete", "pay", "refund", "export", "sync", "webhook", "webhooks", "callback", "batch",
    "bulk", "validate", "preview", "calculate", "run", "trigger", "start", "stop", "like", "unlike", "follow",
    "unfollow", "vote", "subscribe", "unsubscribe", "rollback", "restore", "revert", "install", "uninstall",
    "overwrite",
]


RESPONSE_BUILDERS = frozenset({"jsonify", "make_response", "JSONResponse", "Response", "JsonResponse",
                               "HttpResponse", "ORJSONResponse", "UJSONResponse"})


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depth: int = Field(3, ge=0, le=10)
    check_location: bool = True
    action_words: list[str] = DEFAULT_ACTIONS


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    actions = {word.lower() for word in options.action_words}
    inserts = sites_by_function(project, "db_insert")
    responses = sites_by_function(project, "response", "status_set")
    locations = sites_by_function(project, "location_header")
    creations: list[tuple[Endpoint, CallSite, set[int] | None, bool]] = []
    # A handler that also answers PUT replaces the resource (creating it the first time): an upsert, where 200
    # for "replaced" is as right as 201.
    replaces = {endpoint.handler for endpoint in project.endpoints if "PUT" in endpoint.methods}
    for endpoint in project.endpoints:
        if "POST" not in endpoint.methods or endpoint.framework == "django" or is_action(endpoint, actions) \
                or endpoint.handler in replaces:
            continue
        functions = reachable(project, endpoint.handler, options.depth)
        creating = [name for name in functions if name == endpoint.handler or creates(name)]
        insert = next((site for name in creating for site in inserts.get(name, [])), None)
        if insert is None:
            continue
        statuses = success_statuses(endpoint, responses.get(endpoint.handler, []), responses)
        sends_location = any(name in locations for name in functions)
        creations.append((endpoint, insert, statuses, sends_location))
    # Location is the project's convention only when most of its 201 answers send it; a module or two that do
    # make no rule for the rest (RFC 9110 lets a 201 without Location name the request's own URI).
    answering_201 = [(endpoint, sends) for endpoint, _, statuses, sends in creations
                     if statuses is not None and 201 in statuses]
    with_location = [endpoint for endpoint, sends in answering_201 if sends]
    convention = len(with_location) * 2 > len(answering_201)
    for endpoint, insert, statuses, sends_location in creations:
        if statuses is None:
            continue
        if statuses <= {200}:
            yield RULE.finding(
                f"{describe(endpoint)} creates a row ({insert.callee}) but answers 200: answer 201 Created",
                endpoint.location, f"POST {endpoint.path}",
                fix=keyword_fix(endpoint, "status_code=201", "Answer 201 Created")
                if endpoint.status_code is None else None, related=[insert.location])
        elif 201 in statuses and options.check_location and not sends_location and convention:
            example = with_location[0]
            yield RULE.finding(
                f"{describe(endpoint)} answers 201 without a Location header, unlike {len(with_location)} of "
                f"{len(answering_201)} creation endpoints (e.g. {describe(example)})",
                endpoint.location, f"POST {endpoint.path}:location", related=[example.location])


def builds_response(helper_sites: list[CallSite]) -> bool:
    """A helper that answers with a status of its own (a response object, a `(body, status)` tuple), rather than a
    plain value the framework answers with its default."""
    return any(site.detail.get("status") or site.detail.get("via") in RESPONSE_BUILDERS for site in helper_sites)


_CREATING = re.compile(r"create|add|insert|new|register|save|store|place|submit|persist|upsert|sign_?up|book|"
                       r"issue|open|import|upload", re.IGNORECASE)


def creates(function: str) -> bool:
    """A function the handler calls creates the resource when its name says so (`create_order`,
    `repository.add`); an insert in `log_activity()` or `audit()` is a side record, not the resource."""
    return bool(_CREATING.search(function.rsplit(".", 1)[-1]))


def is_action(endpoint: Endpoint, actions: set[str]) -> bool:
    """`POST /orders/{id}/cancel` or `POST /bundles/rollback/{revision}`: an action on a resource, which may write
    rows without creating the resource the path names."""
    parts = segments(endpoint.path)
    if len(parts) > 1 and parts[-1].startswith(("{", "<", ":")):
        parts = parts[:-1]  # the action's target, named after the verb
    return bool(parts) and (parts[-1] in actions or any(word in actions for word in re.split(r"[-_]", parts[-1])))


def success_statuses(endpoint: Endpoint, sites: list[CallSite],
                     responses: dict[str, list[CallSite]]) -> set[int] | None:
    """The success statuses the endpoint can answer; None when one is computed or unknown (report nothing)."""
    if endpoint.status_code is not None:
        declared = {endpoint.status_code}
        explicit = {status_number(site.detail.get("status")) for site in sites if site.kind == "response"}
        return declared | {status for status in explicit if status is not None and status < 400}
    found: set[int] = set()
    for site in sites:
        text = site.detail.get("status", "")
        if text == "dynamic":
            return None
        status = status_number(text)
        if site.kind == "status_set" and status is not None:
            found.add(status)
        elif site.kind == "response" and site.detail.get("raised") != "true" and not site.detail.get("error"):
            if status is None and builds_response(responses.get(site.detail.get("helper", ""), [])):
                return None  # a helper builds the response: its status is not known here
            found.add(status if status is not None else 200)
    return {status for status in found if status < 400} or {200}


RULE = Rule(
    code="API003",
    name="creation-without-201",
    summary="A POST endpoint creates a row but answers 200 instead of 201 Created",
    check=check,
    options=Options,
    fixable=True,
)
