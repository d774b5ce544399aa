"""## What it does
Flags an application that is clearly set up as the whole server but sends no security headers
(`Strict-Transport-Security`, `X-Content-Type-Options`, `Content-Security-Policy`, `X-Frame-Options`, ...):

- Django: a (non-development) settings module whose `MIDDLEWARE` lacks
  `django.middleware.security.SecurityMiddleware`;
- FastAPI, Starlette and Flask: an app that has middleware or request hooks configured in code (so the team
  shapes its responses there) but none that sets security headers.

Evidence of security headers anywhere in the project silences it: Flask-Talisman, `secure`, django-csp and
similar packages, or a header name such as `"X-Content-Type-Options"` written in a middleware, an
`after_request` hook or a response. An app with no middleware at all is not reported: it most likely sits behind
a proxy or gateway that owns the headers, which the code cannot show.

## Why it matters
These headers are the browser-side defences of an API and its documentation pages: HSTS keeps clients on HTTPS,
`nosniff` stops content-type confusion, and frame and content policies stop clickjacking and injected scripts.
Left to "the proxy will do it", they are usually missing in one environment.

## Example
```python
app = FastAPI()
app.add_middleware(GZipMiddleware)
app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)
```

## Use instead
```python
@app.middleware("http")
async def security_headers(request: Request, call_next):
    response = await call_next(request)
    response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response
```
(or `secure`, Flask-Talisman, Django's `SecurityMiddleware`). There is no automatic fix.

## Options
- `require-middleware`: report FastAPI/Flask apps only when they configure middleware or hooks (default true);
  false reports every app without header evidence.
- Disable the rule (`ignore = ["SRV003"]`) when a proxy or gateway you trust sets the headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import App, Finding, Project
from analyzers.rules import Rule

DJANGO_SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
_HEADER_MIDDLEWARE = re.compile(r"secur|talisman|csp|helmet|header", re.IGNORECASE)


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    require_middleware: bool = True


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    if any(call.detail.get("what") == "security_headers" for call in project.calls_of("server_evidence")):
        return
    for app in project.apps:
        message = problem(app, options)
        if message is not None:
            yield RULE.finding(message, app.location, f"{app.framework}:{app.name}")


def problem(app: App, options: Options) -> str | None:
    if any(_HEADER_MIDDLEWARE.search(name.rsplit(".", 1)[-1]) for name in app.middlewares):
        return None
    if app.framework == "django":
        if app.detail.get("dev") or app.detail.get("no_middleware") or DJANGO_SECURITY_MIDDLEWARE in app.middlewares:
            return None
        return "MIDDLEWARE has no django.middleware.security.SecurityMiddleware: responses carry no security headers"
    hooks = set(app.detail.get("hooks", "").split(","))
    configured = bool(app.middlewares) or bool(hooks & {"after_request", "after_app_request", "middleware"})
    if options.require_middleware and not configured:
        return None
    name = {"fastapi": "FastAPI", "flask": "Flask", "starlette": "Starlette"}.get(app.framework, app.framework)
    return (f"the {name} app configures its middleware here but none sets security headers "
            "(Strict-Transport-Security, X-Content-Type-Options, ...)")


RULE = Rule(
    code="SRV003",
    name="no-security-headers",
    summary="An application that is the whole server sends no security headers",
    check=check,
    options=Options,
)
