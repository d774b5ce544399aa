"""## What it does
Flags slow work done while a request waits for its response, in the handler or anything it calls (followed
through the call graph across modules):

- sending email: `smtplib.SMTP(...).send_message/sendmail`, Django `send_mail`/`send_mass_mail`/
  `mail_admins`/`EmailMessage(...).send()`, Flask-Mail `mail.send(...)`, fastapi-mail `send_message(...)`;
- generating documents: weasyprint `HTML(...).write_pdf()`, reportlab `SimpleDocTemplate.build`/
  `Canvas.save`, xhtml2pdf `pisa.CreatePDF`, pdfkit;
- calling a Celery task's function directly (`send_receipt(order.id)`) instead of queueing it with `.delay()` or
  `.apply_async()`.

Work handed off is not reported: `background_tasks.add_task(send_receipt, ...)`, `.delay()`,
`queue.enqueue(...)`, an executor or a thread. External HTTP calls alone are not reported here (they are
often the point of the endpoint; INT001 and INT002 cover their risks).

## Why it matters
An SMTP handshake or a PDF render takes hundreds of milliseconds to seconds, and fails now and then. Done
inline, it makes the endpoint slow, ties up a worker for the duration, and turns a mail server hiccup into a
failed checkout even though the order was saved. Queued, the user gets an answer right away and the work is
retried on its own schedule.

## Example
```python
@router.post("/orders", status_code=201)
def create_order(payload: OrderIn, db: Session = Depends(get_db)) -> OrderOut:
    order = save_order(db, payload)
    send_receipt(order.id)  # a Celery task, run inline
    return order
```

## Use instead
```python
    order = save_order(db, payload)
    send_receipt.delay(order.id)
    return order
```
Or, without a queue, `background_tasks.add_task(send_receipt_email, order.id)` (FastAPI runs it after the
response is sent). There is no automatic fix beyond this one case; "Fix with agent" can move the work.

## Options
- `kinds`: what to report, any of `email`, `report`, `task_call` (default all three).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Fix, Project, Span, TextEdit, reach
from analyzers.rules import Rule

WHAT = {"email": "sends email", "report": "generates a document", "task_call": "runs a Celery task inline"}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[str] = ["email", "report", "task_call"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    kinds = [kind for kind in options.kinds if kind in WHAT]
    if not kinds:
        return
    calls = project.calls_of(*kinds)
    if not calls:
        return  # most projects: no need to walk the call graph
    path = request_path_outside_tasks(project)
    routes = endpoint_names(project)
    for call in calls:
        if call.function is None or call.function not in path or "entity" not in call.detail:
            continue
        route = routes.get(path[call.function], path[call.function].rsplit(".", 1)[-1])
        yield RULE.finding(f"{route} {WHAT[call.kind]} ({call.callee}) while the client waits for the response; "
                           f"{advice(call)}", call.location, call.detail["entity"], fix=delay_fix(call))


def request_path_outside_tasks(project: Project) -> dict[str, str]:
    """Functions a request runs → its handler, not entering task functions: a task run inline is reported once,
    where it is called, not again for each thing it does."""
    tasks = {call.function for call in project.calls_of("task") if call.function}
    return reach(project, [(endpoint.handler, endpoint.handler) for endpoint in project.endpoints], avoid=tasks)


def endpoint_names(project: Project) -> dict[str, str]:
    names: dict[str, str] = {}
    for endpoint in project.endpoints:
        names.setdefault(endpoint.handler, f"{'/'.join(endpoint.methods)} {endpoint.path or '/'}")
    return names


def advice(call: CallSite) -> str:
    if call.kind == "task_call":
        return "queue it with .delay(...) or .apply_async(...)"
    return "hand it to a task queue or BackgroundTasks"


def delay_fix(call: CallSite) -> Fix | None:
    """`send_receipt(order.id)` → `send_receipt.delay(order.id)`, when the callee name ends where `(` starts."""
    name_end = call.detail.get("name_end")
    if call.kind != "task_call" or not name_end:
        return None
    line, _, column = name_end.partition(":")
    at = Span.at(int(line), int(column))
    return Fix("Queue the task with .delay(...)", edits=(TextEdit(call.location.path, at, ".delay"),), safe=False)


RULE = Rule(
    code="INT007",
    name="slow-work-in-request-handler",
    summary="A request handler sends email, renders a document or runs a task inline instead of queueing it",
    check=check,
    options=Options,
    fixable=True,
)
