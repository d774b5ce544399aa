"""## What it does
Flags outgoing HTTP calls that can wait forever:

- `requests.get/post/put/patch/delete/head/options/request(...)` and the same calls on a `requests.Session()`
  without `timeout=` (requests has no default timeout), or with `timeout=None`;
- `urllib.request.urlopen(url)` without a timeout (it waits as long as the socket default, which is forever
  unless the project calls `socket.setdefaulttimeout(...)`);
- httpx calls and clients with `timeout=None` or `httpx.Timeout(None)`: httpx has a 5 second default, so a
  call that says nothing is fine;
- `aiohttp.ClientTimeout()` / `ClientTimeout(total=None)` with no other limit. aiohttp reads `timeout=None`
  as "the session's default" (5 minutes), so that is not reported.

Sessions are followed wherever they are kept: module variables (imported across modules), `self.session`,
local variables and `with requests.Session() as s:`. A session with a custom transport adapter mounted, a
`session.request = partial(..., timeout=...)` wrapper, or a project that patches `requests` with a default
timeout is taken to have one.

## Why it matters
A remote service that stops answering (but keeps the connection open) holds the calling worker until the
process is killed. Under load, every worker ends up waiting on the same dead dependency and the whole service
stops answering too: one slow partner becomes your outage.

## Example
```python
def fetch_rates(currency: str) -> dict:
    response = requests.get(f"{RATES_URL}/{currency}")
    return response.json()
```

## Use instead
```python
def fetch_rates(currency: str) -> dict:
    response = requests.get(f"{RATES_URL}/{currency}", timeout=10)
    return response.json()
```
The fix adds `timeout=10` (the `timeout` option) to a requests or `urlopen` call that has none. It is marked
unsafe: a call that used to wait for a slow answer now raises after that many seconds.

## Options
- `timeout`: the seconds the fix writes (default 10).
- `libraries`: which client libraries to check (default `["requests", "urllib", "httpx", "aiohttp"]`); drop
  one to silence it everywhere, or use `per-file-ignores` for scripts and tests.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Finding, Fix, Position, Project, Span, TextEdit
from analyzers.rules import Rule

DEFAULT_LIBRARIES = ["requests", "urllib", "httpx", "aiohttp"]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout: float = Field(10, gt=0)
    libraries: list[str] = DEFAULT_LIBRARIES


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for call in project.calls_of("http", "http_client", "http_timeout"):
        if "entity" not in call.detail or call.detail.get("library") not in options.libraries:
            continue
        message = problem(project, call)
        if message is not None:
            yield RULE.finding(message, call.location, call.detail["entity"], fix=timeout_fix(call, options))


def problem(project: Project, call: CallSite) -> str | None:
    """Why the call can wait forever, or None when it cannot."""
    timeout = call.detail.get("timeout")
    library = call.detail.get("library")
    if call.kind == "http_timeout":
        return f"{call.callee}(...) sets no limit on any phase: a call using it can wait forever"
    if call.kind == "http_client":
        return f"{call.callee}(timeout=None) turns off httpx's 5 s default: its calls can wait forever"
    if timeout == "none":
        return f"{call.callee}(..., timeout=None) waits forever for a server that stops answering"
    if timeout != "missing":
        return None
    if library == "requests" and "integrations.requests_default_timeout" not in project.settings:
        return f"{call.callee}(...) has no timeout: requests waits forever for a server that stops answering"
    if library == "urllib" and "integrations.socket_default_timeout" not in project.settings:
        return f"{call.callee}(...) has no timeout: it waits forever for a server that stops answering"
    return None


def timeout_fix(call: CallSite, options: Options) -> Fix | None:
    if call.kind != "http" or call.detail.get("timeout") != "missing" or "insert_at" not in call.detail:
        return None
    line, _, column = call.detail["insert_at"].partition(":")
    at = Position(int(line), int(column))
    seconds = f"{options.timeout:g}"
    text = f"{call.detail.get('insert_sep', '')}timeout={seconds}"
    return Fix(f"Add timeout={seconds}", edits=(TextEdit(call.location.path, Span(at, at), text),), safe=False)


RULE = Rule(
    code="INT001",
    name="http-call-without-timeout",
    summary="An outgoing HTTP call has no timeout (or disables it) and can wait forever",
    check=check,
    options=Options,
    fixable=True,
)
