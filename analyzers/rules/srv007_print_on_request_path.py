"""## What it does
Flags `print(...)` in code that runs while a request is served: the endpoint handler and every project
function it calls, directly or through other functions.

Not reported: scripts and command-line code (management commands, `manage.py`, `cli.py`, `__main__.py`,
modules under `scripts/` or `bin/`, modules that use click, typer, argparse, fire or docopt), code under
`if __name__ == "__main__":`, functions no endpoint reaches, `print(..., file=f)` writing to a file, and test
suites.

## Why it matters
`print` writes unstructured text to stdout: no level, no timestamp, no logger name, no request id, nothing a
log pipeline can filter or alert on, and it cannot be turned down in production or up while debugging. Under
gunicorn or uvicorn, stdout may be buffered or discarded, so the line you need is missing when an incident
happens. Stray prints also leak request data to wherever stdout goes.

## Example
```python
@app.post("/orders")
def create_order():
    order = orders.create(request.json)
    print(f"created order {order.id}")
    return jsonify(order.to_dict()), 201
```

## Use instead
```python
logger = logging.getLogger(__name__)

@app.post("/orders")
def create_order():
    order = orders.create(request.json)
    logger.info("created order %s", order.id)
    return jsonify(order.to_dict()), 201
```
When the module already defines a module-level `logger` (or `log`), the fix replaces `print(x)` with
`logger.info(x)` for a print of a single argument. It is unsafe: the line goes to the logging configuration
instead of stdout, and may be filtered by level.

## Options
- `allow-paths`: path globs where printing is fine (e.g. `["app/debug_toolbar/*"]`; default none).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.config import path_matches
from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.rules.cfg00_shared import is_test_path, planned_fix, serving, short_name


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_paths: list[str] = []


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for site in project.calls_of("print"):
        path = site.location.path
        if "entity" not in site.detail or site.detail.get("cli") or is_test_path(path):
            continue
        if any(path_matches(path, pattern) for pattern in options.allow_paths):
            continue
        request = serving(project, site.function)
        if request is None:
            continue
        logger = site.detail.get("logger", "")
        fix = planned_fix(site, f"Replace print with {logger}.info") if logger else None
        yield RULE.finding(f"print() in {short_name(site.function)} runs while serving {request}: use the "
                           f"logging module (a module-level logger) so the line has a level and reaches the logs",
                           site.location, site.detail["entity"], fix=fix)


RULE = Rule(
    code="SRV007",
    name="print-instead-of-logging",
    summary="print() is used instead of logging in code that serves requests",
    check=check,
    options=Options,
    fixable=True,
)
