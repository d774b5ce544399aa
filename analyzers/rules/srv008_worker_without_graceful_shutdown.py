"""## What it does
Flags hand-written background workers that cannot stop cleanly: a `while True:` loop that consumes work
(`queue.get()`, `consumer.poll()`, Redis `brpop`/`blpop`/`xread`, `channel.start_consuming()`, SQS
`receive_message`, or `time.sleep` polling) with no `break`, `return` or `sys.exit` inside, in a module that
neither registers a SIGTERM/SIGINT handler (`signal.signal(...)`, `loop.add_signal_handler(...)`) nor
handles `KeyboardInterrupt` / `SystemExit`.

Not reported: loops whose condition can change (`while not stopping:`), loops that can end (`break`,
`return`), generators (`yield`), Celery / RQ / Dramatiq tasks (their worker process handles shutdown),
`async def` loops (cancelled through their task; see `include-async`), loops on a request path (streaming
responses), and test suites.

## Why it matters
Deploys, autoscaling and container restarts stop workers with SIGTERM, then SIGKILL after a grace period.
A worker that ignores SIGTERM is killed mid-job: the message it took is lost or processed twice, the file it
was writing is left half done, the transaction it held is rolled back by a timeout. Graceful shutdown means:
stop taking new work, finish (or hand back) the current job, then exit.

## Example
```python
def run() -> None:
    while True:
        job = redis_client.brpop("jobs", timeout=5)
        if job:
            process(job)
```

## Use instead
```python
stopping = False

def request_stop(signum, frame) -> None:
    global stopping
    stopping = True

def run() -> None:
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping:
        job = redis_client.brpop("jobs", timeout=5)
        if job:
            process(job)
```
There is no automatic fix: what the current job needs before exiting depends on the job.

## Options
- `include-async`: also report `async def` loops (default false).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.rules.cfg00_shared import is_test_path, short_name


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_async: bool = False


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    request_path = project.request_path()
    for site in project.calls_of("worker_loop"):
        detail = site.detail
        if "entity" not in detail or detail.get("signals") or detail.get("interrupts"):
            continue
        if (site.is_async and not options.include_async) or is_test_path(site.location.path):
            continue
        if site.function in request_path:
            continue
        yield RULE.finding(f"The worker loop in {short_name(site.function)} ({detail.get('consumes', 'polling')}) "
                           f"never checks for shutdown and its module handles no SIGTERM: a deploy kills it "
                           f"mid-job; stop taking work on SIGTERM and let the current job finish",
                           site.location, detail["entity"])


RULE = Rule(
    code="SRV008",
    name="worker-without-graceful-shutdown",
    summary="A background worker loop runs forever with no SIGTERM handling to finish its job and stop",
    check=check,
    options=Options,
)
