"""## What it does
Flags debug mode switched on in code that production runs:

- Django `DEBUG = True` in a settings module not named for development, local work or tests
  (`settings.py`, `production.py`, `prod.py`, or a `base.py` that a non-development module star-imports
  without setting DEBUG itself);
- `DEBUG = True` in a config class production uses (`class ProductionConfig`, or a base `Config` that a
  non-development subclass inherits without overriding), or in another settings module (`config.py`);
- Flask `app.config["DEBUG"] = True`, `app.debug = True`, and `app.run(debug=True)` at module level outside
  `if __name__ == "__main__":`;
- `FastAPI(debug=True)` / `Starlette(debug=True)`;
- `uvicorn.run(..., reload=True)` at module level outside `if __name__ == "__main__":`.

Not reported: values read from the environment (`DEBUG = env.bool("DEBUG", default=False)`,
`DEBUG = os.getenv("DEBUG") == "1"`), assignments inside an `if`, settings modules and classes named for
development (`dev`, `local`, `test`, `ci`...), pydantic `BaseSettings` defaults (the environment overrides
them), servers started inside a function or a main guard (an entry point someone runs on purpose), and test
suites.

## Why it matters
Debug mode is built for a developer's machine. Django's debug pages and Starlette's debug responses show
tracebacks, settings and local variables to anyone who triggers an error; Werkzeug's debugger lets them run
code on the server; Django also keeps every SQL query in memory. Reload mode watches the file system and
restarts the server. In production each of these is a leak, a remote shell or a slow death.

## Example
```python
# shop/settings.py
DEBUG = True
```

## Use instead
```python
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
```
The fix rewrites a Django settings module's `DEBUG = True` to exactly that (adding `import os`). It is unsafe:
development environments must then set `DJANGO_DEBUG=1`.

## Options
- `checks`: which switches to check, any of `django` (Django settings), `config` (config classes and other
  settings modules), `flask-config`, `flask-run`, `fastapi`, `uvicorn` (default all). Use `per-file-ignores`
  for a settings module the rule takes for production but is not.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule
from analyzers.rules.cfg00_shared import is_test_path, planned_fix

ALL_CHECKS = ["django", "config", "flask-config", "flask-run", "fastapi", "uvicorn"]
WHY = {
    "django": "Django then shows tracebacks and settings to visitors and keeps every query in memory",
    "config": "the app then runs in debug mode, showing tracebacks to visitors",
    "flask-config": "Flask then serves the interactive debugger, which runs code on the server",
    "flask-run": "it starts Werkzeug's debugger, which runs code on the server, whenever the module is imported",
    "fastapi": "error responses then carry tracebacks to the client",
    "uvicorn": "the server then watches files and restarts itself, whenever the module is imported",
}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checks: list[str] = ALL_CHECKS


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for site in project.calls_of("debug_flag"):
        kind = site.detail.get("check", "").replace("_", "-")
        if "entity" not in site.detail or kind not in options.checks or is_test_path(site.location.path):
            continue
        fix = planned_fix(site, "Read DEBUG from DJANGO_DEBUG") if kind == "django" else None
        yield RULE.finding(message(site, kind), site.location, site.detail["entity"], fix=fix)


def message(site: CallSite, kind: str) -> str:
    where = site.detail.get("module", site.location.path)
    if kind == "django":
        subject = f"DEBUG = True in {where}, which production uses"
    elif kind == "config" and site.callee == "DEBUG = True":
        subject = f"DEBUG = True in {where}, which production uses"
    elif kind == "config":
        subject = f"{site.callee} in a config class production uses"
    else:
        subject = site.callee
    return f"{subject}: {WHY.get(kind, 'debug mode is on')}; read it from the environment, off by default"


RULE = Rule(
    code="CFG003",
    name="debug-enabled-in-production",
    summary="Debug or reload mode is switched on in settings or code that production runs",
    check=check,
    options=Options,
    fixable=True,
)
