"""## What it does
Flags background tasks that talk to another service but give up on the first failure:

- Celery tasks (`@shared_task`, `@app.task`, `@celery.task`, with or without options) that reach an external
  call (an HTTP request, an email) through the call graph and have none of: `autoretry_for=...`,
  `retry_backoff`/`retry_kwargs`, a `self.retry(...)` in the body, a custom `base=` task class, an `on_failure`
  handler, project-wide `task_annotations`, or `acks_late`/`reject_on_worker_lost` with a dead-letter queue
  configured somewhere (`x-dead-letter-exchange`);
- RQ `@job(...)` functions, and `queue.enqueue(fn, ...)` / `enqueue_call` / `enqueue_in` / `enqueue_at` of a
  function that reaches an external call, without `retry=Retry(...)` or `on_failure=`.

Tasks that only compute (no HTTP, no email anywhere below them) are not reported unless `all-tasks` is set.

## Why it matters
A task exists because its work may fail or take long: the partner API times out, the SMTP server greylists
the message. Without a retry policy the task fails once and the work is silently lost (the welcome email never
arrives, the webhook is never delivered) with nothing but a line in a worker log. With retries and backoff the
blip is absorbed; with a dead-letter queue what still fails can be inspected and replayed.

## Example
```python
@shared_task
def send_welcome_email(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    send_mail("Welcome", render_welcome(user), None, [user.email])
```

## Use instead
```python
@shared_task(autoretry_for=(SMTPException, ConnectionError), retry_backoff=True, max_retries=5)
def send_welcome_email(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    send_mail("Welcome", render_welcome(user), None, [user.email])
```
For RQ: `queue.enqueue(send_welcome_email, user.id, retry=Retry(max=3, interval=[10, 30, 60]))`. There is no
automatic fix: which exceptions are worth a retry, and how often, is the team's decision.

## Options
- `all-tasks`: report every task without a retry policy, external calls or not (default false).
- `depth`: how deep in the call graph to look for an external call below the task (default 6).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule

EXTERNAL_KINDS = ("http", "email")


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all_tasks: bool = False
    depth: int = Field(6, ge=0)


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    external = external_calls(project)
    for task in project.calls_of("task"):
        if task.function is None or task.detail.get("retry") or task.detail.get("dead_letter"):
            continue
        evidence = first_external(project, task.function, external, options.depth)
        if evidence is None and not options.all_tasks:
            continue
        name = task.function.rsplit(".", 1)[-1]
        framework = "Celery" if task.detail.get("framework") == "celery" else "RQ"
        yield RULE.finding(f"{framework} task {name} {reason(evidence)} but has no retry policy "
                           f"({advice(task)})", task.location, f"task:{task.function}")
    for enqueue in project.calls_of("enqueue"):
        target = enqueue.detail.get("target", "")
        if enqueue.detail.get("retry") or "entity" not in enqueue.detail:
            continue
        if target not in project.functions and not options.all_tasks:
            continue
        evidence = first_external(project, target, external, options.depth) if target else None
        if evidence is None and not options.all_tasks:
            continue
        name = target.rsplit(".", 1)[-1] or "the job"
        yield RULE.finding(f"{enqueue.callee}({name}, ...) queues a job that {reason(evidence)} without "
                           f"retry=Retry(...) or on_failure=", enqueue.location, enqueue.detail["entity"])


def external_calls(project: Project) -> dict[str, CallSite]:
    """The first external call of each function."""
    found: dict[str, CallSite] = {}
    for call in project.calls_of(*EXTERNAL_KINDS):
        if call.function is not None:
            found.setdefault(call.function, call)
    return found


def first_external(project: Project, start: str, external: dict[str, CallSite], depth: int) -> CallSite | None:
    """An external call in `start` or in what it calls, breadth first, at most `depth` calls down."""
    frontier = [start]
    seen = {start}
    for _ in range(depth + 1):
        for name in frontier:
            if name in external:
                return external[name]
        following: list[str] = []
        for name in frontier:
            info = project.functions.get(name)
            for callee in sorted(info.calls if info is not None else ()):
                if callee in project.functions and callee not in seen:
                    seen.add(callee)
                    following.append(callee)
        frontier = following
        if not frontier:
            break
    return None


def reason(evidence: CallSite | None) -> str:
    if evidence is None:
        return "may fail"
    what = "sends email" if evidence.kind == "email" else "calls an external service"
    return f"{what} ({evidence.callee} at {evidence.location.path}:{evidence.location.line + 1})"


def advice(task: CallSite) -> str:
    if task.detail.get("framework") == "rq":
        return "add retry=Retry(max=3) or on_failure="
    return "add autoretry_for=(...) with retry_backoff=True, or call self.retry() with bind=True"


RULE = Rule(
    code="INT006",
    name="task-without-retry-policy",
    summary="A background task that calls another service has no retry policy or dead-letter handling",
    check=check,
    options=Options,
)
