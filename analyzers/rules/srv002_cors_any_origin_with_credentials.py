"""## What it does
Flags CORS configured to accept any origin while allowing credentials (cookies, HTTP authentication):

- Starlette/FastAPI `CORSMiddleware(allow_origins=["*"], allow_credentials=True)`, also with a match-all
  `allow_origin_regex` (`".*"`, `"https?://.*"`), whether added with `app.add_middleware(...)` or passed as
  `Middleware(...)` to the app;
- Flask-CORS `CORS(app, supports_credentials=True)` (or `@cross_origin(...)`) with `origins` unset (Flask-CORS
  then allows any origin), `"*"`, or a match-all pattern, also per path in `resources=`;
- django-cors-headers `CORS_ALLOW_ALL_ORIGINS = True` (or `CORS_ORIGIN_ALLOW_ALL`, or a match-all
  `CORS_ALLOWED_ORIGIN_REGEXES`) with `CORS_ALLOW_CREDENTIALS = True`, outside development settings.

Any origin without credentials is fine for a public API and is not reported. Origins read from settings or the
environment cannot be known and are not reported either.

## Why it matters
Browsers refuse `Access-Control-Allow-Origin: *` with credentials, so these libraries answer by echoing whatever
origin asks. Any web page the user visits can then call the API with the user's cookies and read the answers:
the same-origin policy is switched off for this API.

## Example
```python
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True,
                   allow_methods=["*"], allow_headers=["*"])
```

## Use instead
```python
app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,  # ["https://app.example.com"]
                   allow_credentials=True, allow_methods=["*"], allow_headers=["*"])
```
There is no automatic fix: the list of trusted origins is the team's.

## Options
None. Suppress a deliberate configuration with `# plumbline: ignore[SRV002] reason`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from analyzers.model import Finding, Project
from analyzers.rules import Rule


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    for site in project.calls_of("cors_config"):
        if site.detail.get("any_origin") != "true" or site.detail.get("credentials") != "true":
            continue
        how = site.detail.get("how", site.callee)
        yield RULE.finding(f"CORS allows any origin ({how}) together with credentials: any website can call the API "
                           "as the signed-in user", site.location, f"{site.location.path}:{how}")


RULE = Rule(
    code="SRV002",
    name="cors-any-origin-with-credentials",
    summary="CORS accepts any origin while allowing credentials",
    check=check,
    severity="error",
)
