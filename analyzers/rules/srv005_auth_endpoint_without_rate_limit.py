"""## What it does
Flags authentication endpoints (login, sign-in, token, one-time codes, password reset) that accept requests
without any rate limit. Rate-limit evidence is found per endpoint (slowapi or Flask-Limiter `@limiter.limit(...)`,
fastapi-limiter `Depends(RateLimiter(...))`, django-ratelimit `@ratelimit(...)`, DRF `throttle_classes`) or for
the whole project (a limiter created with `default_limits`/`application_limits`, a rate-limit middleware,
DRF `DEFAULT_THROTTLE_CLASSES`, django-axes or django-defender lockouts). Only endpoints that take input
(`POST`, `PUT`, `PATCH`) are considered, and only those a caller reaches without signing in: an endpoint
that requires a signed-in user (a dependency, `permission_classes`, a login-required mixin or decorator) is not
where passwords are guessed.

## Why it matters
A login or one-time-code endpoint without a limit lets an attacker try passwords and codes as fast as the server
answers: credential stuffing and brute force need nothing else. Limits per client (and per account) turn that
into a few guesses per minute.

## Example
```python
@router.post("/auth/login")
def login(form: OAuth2PasswordRequestForm = Depends()): ...
```

## Use instead
```python
@router.post("/auth/login")
@limiter.limit("5/minute")
def login(request: Request, form: OAuth2PasswordRequestForm = Depends()): ...
```
There is no automatic fix: the limiter and its storage are a project decision.

## Options
- `paths`: path words that make an endpoint an authentication endpoint (default: login, log-in, signin,
  sign-in, token, otp, 2fa, mfa, totp, password, reset-password, forgot-password, authenticate).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Endpoint, Finding, Project
from analyzers.rules import Rule
from analyzers.rules._http_rules import describe, path_mentions

DEFAULT_PATHS = ["login", "log-in", "signin", "sign-in", "token", "otp", "2fa", "mfa", "totp", "password",
                 "reset-password", "forgot-password", "authenticate"]
GLOBAL_EVIDENCE = ("rate_limit", "brute_force")


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paths: list[str] = DEFAULT_PATHS


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    if any(call.detail.get("what") in GLOBAL_EVIDENCE for call in project.calls_of("server_evidence")):
        return
    for endpoint in project.endpoints:
        if not {"POST", "PUT", "PATCH"} & set(endpoint.methods) or limited(endpoint):
            continue
        if requires_sign_in(endpoint):
            continue  # only a signed-in user reaches it (pretix's /settings/2fa/disable): no one guesses from outside
        word = path_mentions(endpoint.path, options.paths)
        if word is None:
            continue
        yield RULE.finding(f"{describe(endpoint)} is an authentication endpoint ({word}) without a rate limit: "
                           "passwords and codes can be guessed as fast as the server answers",
                           endpoint.location, f"{'/'.join(endpoint.methods)} {endpoint.path}")


def requires_sign_in(endpoint: Endpoint) -> bool:
    """Auth evidence other than an explicit opening (`permission_classes = [AllowAny]`, `= ()`)."""
    return any(not re.search(r"AllowAny|=\s*(\[\s*\]|\(\s*\))$", evidence) for evidence in endpoint.auth)


def limited(endpoint: Endpoint) -> bool:
    return any("exempt" not in evidence.lower() for evidence in endpoint.rate_limit)


RULE = Rule(
    code="SRV005",
    name="auth-endpoint-without-rate-limit",
    summary="A login, token or password-reset endpoint has no rate limit",
    check=check,
    options=Options,
)
