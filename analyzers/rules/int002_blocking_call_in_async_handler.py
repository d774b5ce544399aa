"""## What it does
Flags blocking calls that run on the event loop while a request is served: `requests.*` (and calls on a
`requests.Session`), `urllib.request.urlopen`, httpx's synchronous API (`httpx.get`, an `httpx.Client`) and
`time.sleep`, written directly in an `async def` on a request path (the handler or an async helper it awaits),
or in a plain `def` that such an async function calls directly.

Work handed to a thread (`run_in_threadpool(fn)`, `asyncio.to_thread(fn)`, `loop.run_in_executor(None, fn)`)
is not reported, and neither are synchronous handlers (FastAPI runs `def` endpoints in a thread pool). Flask's
`async def` views are skipped: Flask runs each one on its own event loop in the request's worker thread.

## Why it matters
An async server runs every request of a worker on one event loop. A blocking call freezes that loop: for the
two seconds a partner API takes to answer, no other request on the worker makes progress, not even health
checks. Latency climbs for everyone and throughput collapses to one request at a time.

## Example
```python
@router.get("/rates/{currency}")
async def get_rates(currency: str) -> dict:
    response = requests.get(f"{RATES_URL}/{currency}", timeout=10)
    return response.json()
```

## Use instead
```python
@router.get("/rates/{currency}")
async def get_rates(currency: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{RATES_URL}/{currency}")
    return response.json()
```
Or keep the synchronous client and hand the call to a thread: `await run_in_threadpool(fetch_rates, currency)`;
use `await asyncio.sleep(...)` instead of `time.sleep(...)`. There is no automatic fix: the call and its
callers must become `await`-ed.

## Options
- `follow-sync-callees`: also report blocking calls in plain functions an async function on a request path
  calls directly (default true).
- `skip-frameworks`: frameworks whose async views do not share an event loop between requests
  (default `["flask"]`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    follow_sync_callees: bool = True
    skip_frameworks: list[str] = ["flask"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    on_loop = async_request_functions(project, set(options.skip_frameworks))
    sync_callees = sync_functions_called_from(project, on_loop) if options.follow_sync_callees else {}
    for call in project.calls_of("http", "sleep"):
        if call.detail.get("blocking") != "true" or call.function is None or "entity" not in call.detail:
            continue
        if call.function in on_loop:
            where = f"in async {short(call.function)}"
        elif call.function in sync_callees:
            where = f"in {short(call.function)}, which async {short(sync_callees[call.function])} calls directly"
        else:
            continue
        yield RULE.finding(f"{call.callee}(...) blocks the event loop {where} while serving a request"
                           f"{advice(call)}", call.location, call.detail["entity"])


def async_request_functions(project: Project, skipped: set[str]) -> set[str]:
    """Async functions that run on the server's event loop while a request is served."""
    frameworks: dict[str, str] = {endpoint.handler: endpoint.framework for endpoint in project.endpoints}
    found: set[str] = set()
    for name, handler in project.request_path().items():
        info = project.functions.get(name)
        if info is not None and info.is_async and frameworks.get(handler) not in skipped:
            found.add(name)
    return found


def sync_functions_called_from(project: Project, on_loop: set[str]) -> dict[str, str]:
    """Plain functions called directly by one of `on_loop` → that caller."""
    called: dict[str, str] = {}
    for caller in sorted(on_loop):
        info = project.functions.get(caller)
        for callee in sorted(info.calls if info is not None else ()):
            target = project.functions.get(callee)
            if target is not None and not target.is_async:
                called.setdefault(callee, caller)
    return called


def advice(call: CallSite) -> str:
    if call.kind == "sleep":
        return "; use await asyncio.sleep(...)"
    return "; use httpx.AsyncClient, or run it with run_in_threadpool / asyncio.to_thread"


def short(name: str) -> str:
    """`app.routes.orders.list_orders` → `list_orders`; methods keep their class."""
    parts = [part for part in name.split(".") if part != "<locals>"]
    return ".".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1]


RULE = Rule(
    code="INT002",
    name="blocking-call-in-async-handler",
    summary="A blocking HTTP call or sleep runs on the event loop while a request is served",
    check=check,
    options=Options,
)
