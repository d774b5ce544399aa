"""## What it does
Flags broad exception handlers (`except:`, `except Exception:`, `except BaseException:`, or a tuple holding
one of them) that make an error disappear or hand it to the client:

- handlers that swallow the error where the backend runs them: in a function that serves a request (an
  endpoint handler and what it calls) or a background job (a Celery or RQ task, a `while True:` loop consuming
  a queue, and what they call), whose body neither re-raises nor calls anything and carries on with nothing in
  place of what failed (`pass`, `continue`, `break`, `return`, `return None`), so nothing is logged and nobody
  learns that something failed;
- handlers on a request path that put the exception's text into the response: `str(e)`, `repr(e)`,
  `f"{e}"`, `e.args` or `traceback.format_exc()` passed to `JSONResponse(...)`, `jsonify(...)`,
  `Response(...)`, `HTTPException(detail=...)`, `abort(...)`, or returned by the endpoint handler itself
  (`return {"error": str(e)}, 500`). Not when the try block only parses or converts (see below): the text
  then describes the client's own input (`Invalid JSON payload: Expecting value: line 1 column 1`). Nor in a
  block that runs for some exception types only (`if isinstance(e, Conflict): raise HTTPException(409,
  str(e))`): that is a narrow handler for an error the code raises on purpose, written inside the broad one;
- the app's handler for every unhandled exception when it answers with the exception's text:
  `@app.exception_handler(Exception)` (FastAPI, Starlette), `@app.errorhandler(Exception)` (Flask) or
  `app.add_exception_handler(Exception, handler)` returning `{"message": str(exc)}`.

Not reported (unless `strict`): swallows in functions no request or job reaches (client libraries, command-line
tools, scripts: their callers decide what a failure means); handlers that carry on with a value they chose
(`return False`, `return []`, `locale = "en"`, `workspace_id = None`): a fallback is a decision, not a lost
error; handlers nested in another except clause (the error path of an error path); handlers whose try block
only imports, parses or converts (`int(text)`, `json.loads(raw)`, `base64.b64decode(data)`,
`datetime.fromisoformat(value)`, `parse_uri(uri)`, `from x import y`): a failed parse is an answer about the
input, not a write that never happened; handlers whose body has a comment saying why the error is dropped
(`# best effort: the cache is optional`; tool comments such as `# noqa` or `# TODO` do not count).
Never reported: narrow handlers (`except KeyError: pass`), handlers that re-raise (`raise`, `raise ... from
e`) or log (`logger.exception/error/warning/info`, `logging.*`, `sentry_sdk.capture_exception`,
`traceback.print_exc`), `__del__` / `__exit__` methods, and test suites.

## Why it matters
A swallowed exception turns a failure into wrong data with no trace: the order that was never charged, the
email that never left, found weeks later with no log line to start from. A broad handler also catches the
bugs (`NameError`, `TypeError`) it was never meant for. Sending the exception text to the client leaks
internals (SQL, file paths, hostnames, sometimes credentials) and gives users a message they cannot act on.

## Example
```python
@shared_task
def sync_inventory(sku: str) -> None:
    try:
        warehouse.push(sku)
    except Exception:
        pass

@router.post("/orders")
def create_order(order: OrderIn) -> dict:
    try:
        return orders.create(order)
    except Exception as e:
        return JSONResponse({"error": str(e)}, status_code=500)
```

## Use instead
```python
@shared_task
def sync_inventory(sku: str) -> None:
    try:
        warehouse.push(sku)
    except WarehouseUnavailable:
        logger.warning("warehouse unavailable, will retry %s", sku, exc_info=True)

@router.post("/orders")
def create_order(order: OrderIn) -> dict:
    return orders.create(order)  # let the app's error handler log it and answer 500
```
There is no automatic fix: which exceptions to catch and what to do with them is a decision.

## Options
- `strict`: report every broad handler that neither logs nor re-raises, wherever it is: also those left out
  above (outside request and job paths, fallbacks, nested, around parsing, explained) and handlers that call
  something but do not log (default false).
- `backend-path-only`: report swallows only in functions a request or a background job runs (default true);
  false reports them in every function, with the other exceptions above still applied.
- `report-leaks`: report exception text sent to the client (default true).
- `ignore-functions`: function names (globs) where swallowing is deliberate (default `["__del__", "__exit__",
  "__aexit__"]`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule
from analyzers.rules.cfg00_shared import is_test_path, matches_any, running, serving, short_name


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strict: bool = False
    backend_path_only: bool = True
    report_leaks: bool = True
    ignore_functions: list[str] = ["__del__", "__exit__", "__aexit__"]


# What makes a silent handler a deliberate one (see the extractor's `broad_except` detail).
DELIBERATE = ("explained", "fallback", "nested", "converts")


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for site in project.calls_of("broad_except"):
        if "entity" not in site.detail or is_test_path(site.location.path):
            continue
        function = (site.function or "").rsplit(".", 1)[-1]
        if matches_any(function, options.ignore_functions):
            continue
        text = leak(project, site) if options.report_leaks else None
        text = text or swallow(project, site, options)
        if text is not None:
            yield RULE.finding(text, site.location, site.detail["entity"])


def leak(project: Project, site: CallSite) -> str | None:
    detail = site.detail
    if not detail.get("leak") or detail.get("converts"):
        return None
    if detail.get("catch_all"):  # registered with the app: it answers every request that fails unexpectedly
        return (f"the app's handler for every unhandled exception (`{site.callee}`) sends {detail['leak']} to the "
                f"client: it leaks internals of any failure; log the exception and answer with a generic message")
    request = serving(project, site.function)
    handler = project.request_path().get(site.function or "")
    # A helper returning the text may hand it to a caller that logs it; only the handler's return reaches the client.
    if request is None or (detail.get("leak_via") == "return" and handler != site.function):
        return None
    return (f"`{site.callee}` sends {detail['leak']} to the client of {request}: it leaks internals; log the "
            f"exception and answer with a generic error message")


def swallow(project: Project, site: CallSite, options: Options) -> str | None:
    detail = site.detail
    if detail.get("raises") or detail.get("logged"):
        return None
    if detail.get("silent") and not any(detail.get(reason) for reason in DELIBERATE):
        where = running(project, site.function)
        if where is not None or not options.backend_path_only:
            run_by = f" (run by {where})" if where else ""
            return (f"`{site.callee}` in {short_name(site.function)}{run_by} swallows every error without a trace: "
                    f"catch the exceptions you expect, and log or re-raise the rest")
    if options.strict:
        return (f"`{site.callee}` in {short_name(site.function)} neither logs nor re-raises: log the exception "
                f"(logger.exception) or re-raise it")
    return None


RULE = Rule(
    code="SRV006",
    name="broad-except-hides-error",
    summary="A broad except swallows errors on a request or job path, or sends the exception text to the client",
    check=check,
    options=Options,
)
