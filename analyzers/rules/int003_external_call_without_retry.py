"""## What it does
In a project that already retries external calls somewhere (it uses tenacity, backoff, stamina, retrying,
aiohttp-retry, urllib3's `Retry`, `HTTPAdapter(max_retries=...)` or an httpx transport with `retries=`), flags
the HTTP calls that nothing retries: the function holding the call has no retry decorator (`@retry`,
`@backoff.on_exception`, `@stamina.retry`, or any decorator named `*retry*`/`*backoff*`), no retry loop
(`for attempt in Retrying(...)`, `stamina.retry_context(...)`), no caller up the call graph that retries, and the
call is not made on a session or client configured with retries.

A project with no retry tooling at all gets no findings: whether to retry is then a decision the rule does not
second-guess. Tests are skipped by default.

## Why it matters
Networks drop connections and partners return the occasional 502 or 503. When the team already decided that
external calls deserve retries, a call without one is usually an oversight: it turns a blip that a second
attempt would absorb into an error for the user, and it does so inconsistently across the codebase.

## Example
```python
@retry(stop=stop_after_attempt(3), wait=wait_exponential())
def fetch_rates(currency: str) -> dict:
    return requests.get(f"{RATES_URL}/{currency}", timeout=10).json()


def fetch_invoice(invoice_id: str) -> dict:
    return requests.get(f"{BILLING_URL}/invoices/{invoice_id}", timeout=10).json()
```

## Use instead
```python
@retry(stop=stop_after_attempt(3), wait=wait_exponential())
def fetch_invoice(invoice_id: str) -> dict:
    return requests.get(f"{BILLING_URL}/invoices/{invoice_id}", timeout=10).json()
```
Or make the call through a session whose adapter retries
(`session.mount("https://", HTTPAdapter(max_retries=Retry(total=3, backoff_factor=0.5)))`). Only retry what is
safe to repeat: `GET`s and idempotent writes. There is no automatic fix: the retry policy is a design choice.

## Options
- `ignore-tests`: skip calls in test files (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`; default true).
- `caller-depth`: how many callers up the call graph a retry decorator may be (default 4; 0 = the function
  itself only).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import Finding, Project
from analyzers.rules import Rule


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ignore_tests: bool = True
    caller_depth: int = Field(4, ge=0)


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    tooling = project.settings.get("integrations.retry_tooling")
    if not tooling:
        return
    retried = {call.function for call in project.calls_of("retry") if call.function}
    callers = reverse_call_graph(project)
    for call in project.calls_of("http"):
        if call.function is None or "entity" not in call.detail or call.detail.get("retries"):
            continue
        if options.ignore_tests and is_test_path(call.location.path):
            continue
        if covered(call.function, retried, callers, options.caller_depth):
            continue
        yield RULE.finding(f"{call.callee}(...) is not retried, while the project retries other external calls "
                           f"({tooling})", call.location, call.detail["entity"])


def reverse_call_graph(project: Project) -> dict[str, set[str]]:
    callers: dict[str, set[str]] = {}
    for info in project.functions.values():
        for callee in info.calls:
            callers.setdefault(callee, set()).add(info.name)
    return callers


def covered(function: str, retried: set[str], callers: dict[str, set[str]], depth: int) -> bool:
    """The function, or a caller at most `depth` steps up, retries."""
    frontier = {function}
    seen: set[str] = set()
    for _ in range(depth + 1):
        if frontier & retried:
            return True
        seen |= frontier
        frontier = {caller for name in frontier for caller in callers.get(name, ())} - seen
        if not frontier:
            return False
    return False


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return any(part in ("tests", "test") for part in parts[:-1]) or name.startswith("test_") or name.endswith(
        "_test.py") or name == "conftest.py"


RULE = Rule(
    code="INT003",
    name="external-call-without-retry",
    summary="An HTTP call has no retry in a project that retries its other external calls",
    check=check,
    options=Options,
    severity="info",
)
