"""## What it does
Flags `POST`, `PUT`, `PATCH` and `DELETE` endpoints without the authentication the rest of the API uses. Auth
evidence is what the framework extractors find per endpoint: a FastAPI dependency such as
`Depends(get_current_user)` or `Security(...)` (on the route, its router or the app), an OAuth2/API-key security
scheme, `@login_required`/`@jwt_required()`-style decorators, DRF `permission_classes` or
`DEFAULT_PERMISSION_CLASSES`, and a `before_request` hook that authenticates every route of a blueprint or app.

The rule only speaks when auth is the project's norm: at least half of the endpoints (or of the mutating ones)
carry auth evidence, and at least two do. A project with no auth anywhere is not reported (it may sit behind a
gateway). Sign-up, login, token, password-reset, webhook and health endpoints are public by nature and exempt.
So are `POST` endpoints that change nothing: the handler and every project function it calls make no database
write or commit, send no message or outgoing request, write no cache, and call nothing named like a write
(`save`, `create_*`, `send_*`, `.delay`) — a search form posted with `POST`, a no-op endpoint. `PUT`, `PATCH`
and `DELETE` say they write, so they are always considered; so are a FastAPI endpoint with dependencies and a
framework-provided handler (DRF `ModelViewSet.create`): a dependency can write, and the framework's handler does.
A route that only redirects (any method: `DELETE /folders/{id}` answering 307 to `/projects/{id}`) and reaches
no write is exempt too: the client repeats the request where the auth is checked.

## Why it matters
One forgotten dependency on a write endpoint lets anyone create, change or delete data. The omission is easy to
make (a new route copied from a public one) and invisible in review, because nothing is there to see.

## Example
```python
@router.post("/orders")
def create_order(payload: OrderIn, user: User = Depends(get_current_user)): ...

@router.delete("/orders/{order_id}")          # reported: every other write requires a user
def delete_order(order_id: int): ...
```

## Use instead
```python
@router.delete("/orders/{order_id}")
def delete_order(order_id: int, user: User = Depends(get_current_user)): ...
```
(or put the dependency on the router: `APIRouter(dependencies=[Depends(get_current_user)])`). There is no
automatic fix: "Fix with agent" can add the project's own dependency.

## Options
- `public-paths`: path words whose endpoints may be public (default: login, logout, signin, sign-in, signup,
  sign-up, register, token, refresh, password, reset, forgot, verify, confirm, activate, webhook, webhooks,
  callback, oauth, health, healthz, ping, public).
- `min-share`: the share of endpoints with auth that makes it the norm (default 0.5).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Endpoint, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import MUTATING, describe, path_mentions, reads_only, sites_by_function

DEFAULT_PUBLIC = ["login", "logout", "signin", "sign-in", "signup", "sign-up", "register", "token", "refresh",
                  "password", "reset", "forgot", "verify", "confirm", "activate", "webhook", "webhooks", "callback",
                  "oauth", "health", "healthz", "ping", "public"]


# Methods that say the endpoint writes: it is reported even when the write happens in code we cannot see.
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public_paths: list[str] = DEFAULT_PUBLIC
    min_share: float = Field(0.5, gt=0, le=1)


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    hooks = [call for call in project.calls_of("server_evidence") if call.detail.get("what") == "auth_hook"]
    guarded_groups = {call.detail.get("group", "") for call in hooks}
    # A hook on the app itself (or `before_app_request` on a blueprint) runs before every route.
    everything = any("before_app_request" in call.callee for call in hooks) or bool(
        guarded_groups & {app.name for app in project.apps})
    endpoints = [endpoint for endpoint in project.endpoints if not path_mentions(endpoint.path, options.public_paths)]

    def has_auth(endpoint: Endpoint) -> bool:
        return bool(endpoint.auth) or everything or (endpoint.group is not None and endpoint.group in guarded_groups)

    mutating = [endpoint for endpoint in endpoints if MUTATING & set(endpoint.methods)]
    with_auth = [endpoint for endpoint in endpoints if has_auth(endpoint)]
    mutating_with_auth = [endpoint for endpoint in mutating if has_auth(endpoint)]
    if len(with_auth) < 2:
        return
    norm = len(with_auth) / len(endpoints) >= options.min_share or (
        bool(mutating) and len(mutating_with_auth) / len(mutating) >= options.min_share)
    if not norm:
        return
    example = (mutating_with_auth or with_auth)[0]
    responses = sites_by_function(project, "response")
    for endpoint in mutating:
        if has_auth(endpoint) or (not WRITE_METHODS & set(endpoint.methods) and reads_only(project, endpoint)):
            continue
        if redirects_only(project, endpoint, responses.get(endpoint.handler, [])):
            continue
        evidence = example.auth[0] if example.auth else "an authenticating before_request hook"
        yield RULE.finding(f"{describe(endpoint)} changes data without authentication, unlike "
                           f"{len(with_auth)} of {len(endpoints)} endpoints (e.g. {describe(example)}: {evidence})",
                           endpoint.location, f"{'/'.join(endpoint.methods)} {endpoint.path}",
                           related=[example.location])


def redirects_only(project: Project, endpoint: Endpoint, sites: list[CallSite]) -> bool:
    """A moved route (`DELETE /folders/{id}` answering 307 to `/projects/{id}`): it changes nothing itself, and
    the client repeats the request where the auth is checked."""
    answers = [site for site in sites if site.detail.get("raised") != "true"]
    return bool(answers) and all(site.detail.get("body") == "redirect" for site in answers) \
        and reads_only(project, endpoint)


RULE = Rule(
    code="SRV004",
    name="mutating-endpoint-without-auth",
    summary="A write endpoint lacks the authentication the project's other endpoints use",
    check=check,
    options=Options,
    severity="error",
)
