"""## What it does
Flags one unit of work split over several transactions, or run outside one:

- **SQLAlchemy / DB-API**: a function that calls `commit()` on the same session or connection twice on one
  path (`db.commit()`, more work, `db.commit()` again). Each commit is its own transaction. Commits in
  `if`/`else` branches that exclude each other, after a `return`, in an `except` handler or inside a loop are
  not counted.
- **Django**: a function that writes twice or more (`save()`, `create()`, `update()`, `delete()`,
  `bulk_create()`, `bulk_update()`, `update_or_create()`; not a file's `delete(save=False)` or an image's
  `save(fp=...)`) outside `transaction.atomic` (decorator, `with` block, `method_decorator(atomic)` on the view
  class, or a context manager named for a transaction such as `rolledback_transaction()`). A function that a
  caller runs inside an atomic block is not reported: directly or further down the call graph, through DRF's
  `serializer.save()` (which runs the serializer's `create()` or `update()`) and Django's `form_valid()` (which
  runs `form.save()`), a `self.method()` the class inherits or a subclass overrides, or `obj.method()` where
  only one class defines `method` or `obj` is named after the class (not `obj.save()` or `obj.delete()`: a
  model's override runs wherever a row is saved). Nor is a function that serves requests
  with `ATOMIC_REQUESTS = True` (from a view not marked `non_atomic_requests`). Tests and migrations are
  skipped (Django runs migrations in a transaction).

A single `commit()` after several `add()` calls is one transaction: it is fine.

## Why it matters
When the second commit or write fails (a constraint, a timeout, a deploy killing the worker), the first has
already been committed: an order without its lines, a payment without its ledger entry. Nothing rolls it back,
and the inconsistency stays in the data until someone finds it by hand.

## Example
```python
def create_order(db: Session, data: OrderIn) -> Order:
    order = Order(customer_id=data.customer_id)
    db.add(order)
    db.commit()
    for line in data.lines:
        db.add(OrderLine(order_id=order.id, **line.dict()))
    db.commit()
    return order
```

## Use instead
```python
    db.add(order)
    db.flush()  # assigns order.id inside the same transaction
    for line in data.lines:
        db.add(OrderLine(order_id=order.id, **line.dict()))
    db.commit()
```
Django: decorate the function with `@transaction.atomic` or wrap the writes in `with transaction.atomic():`.
The fix (marked unsafe: review it) turns the earlier `commit()` into `flush()` for SQLAlchemy sessions, and adds
`@transaction.atomic` to a synchronous Django function.

## Options
- `ignore-receivers`: sessions or connections whose commits are never reported (e.g. `audit_db`, a separate
  audit log that must commit on its own).
- `django-writes`: also report Django writes outside a transaction (default true).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Fix, Position, Project, Span, TextEdit, decode_span
from analyzers.rules import Rule
from analyzers.rules.qry00_shared import is_test_or_migration, short_name


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ignore_receivers: list[str] = []
    django_writes: bool = True


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    yield from _commits(project, set(options.ignore_receivers))
    if options.django_writes:
        yield from _django_writes(project)


# ---- several commits


def _commits(project: Project, ignored: set[str]) -> Iterator[Finding]:
    reported: set[str] = set()
    for site in project.calls_of("db_commit"):
        receiver = site.detail.get("receiver", "")
        previous = decode_span(site.detail.get("previous"))
        if previous is None or receiver in ignored or is_test_or_migration(site.location.path):
            continue
        entity = f"{site.function or site.location.path}:{receiver}.commit"
        if entity in reported:
            continue
        reported.add(entity)
        message = (f"{receiver}.commit() is the second commit in {short_name(site.function)} (the first at line "
                   f"{previous.start.line + 1}): a failure in between leaves the first part committed; flush() "
                   "where an id is needed and commit once")
        yield RULE.finding(message, site.location, entity, fix=_flush_fix(site, previous))


def _flush_fix(site: CallSite, previous: Span) -> Fix | None:
    text = site.detail.get("flush_text")
    if not text:
        return None
    return Fix("Flush instead of committing early", edits=(TextEdit(site.location.path, previous, text),),
               safe=False)


# ---- Django writes outside atomic


def _django_writes(project: Project) -> Iterator[Finding]:
    django = "django" in project.stacks
    writes: dict[str, list[CallSite]] = {}
    for site in project.calls_of("db_write"):
        if site.function is None or is_test_or_migration(site.location.path):
            continue
        if site.detail.get("orm") == "django" or (django and site.detail.get("orm") == "any"):
            writes.setdefault(site.function, []).append(site)
    if not writes:
        return
    covered = _atomic_functions(project)
    request_path = _atomic_request_path(project) if project.settings.get("django.atomic_requests") else set()
    for function, sites in writes.items():
        if function in covered or function in request_path:
            continue
        unprotected = [site for site in sites if not site.detail.get("atomic")]
        second = next((site for site in unprotected if site.detail.get("previous")), None)
        if second is None:
            continue
        lines = ", ".join(str(site.location.line + 1) for site in unprotected)
        methods = ", ".join(dict.fromkeys(f"{site.detail.get('method', site.callee)}()" for site in unprotected))
        message = (f"{short_name(function)} writes {len(unprotected)} times ({methods}, lines {lines}) outside "
                   "transaction.atomic: a failure part-way leaves the earlier writes committed")
        yield RULE.finding(message, second.location, f"{function}:writes", fix=_atomic_fix(second),
                           related=[site.location for site in unprotected if site is not second])


def _atomic_functions(project: Project) -> set[str]:
    """Functions that always run inside a transaction because an atomic block or function calls them."""
    covered = {site.callee for site in project.calls_of("atomic_call")}
    pending = list(covered)
    while pending:
        info = project.functions.get(pending.pop())
        if info is None:
            continue
        for callee in info.calls:
            if callee in project.functions and callee not in covered:
                covered.add(callee)
                pending.append(callee)
    return covered


def _atomic_request_path(project: Project) -> set[str]:
    """Functions that serve a request in ATOMIC_REQUESTS' transaction: reached from a view that does not opt
    out with `non_atomic_requests`."""
    opted_out = {site.callee for site in project.calls_of("non_atomic_requests")}
    if not opted_out:
        return set(project.request_path())
    reached: set[str] = set()
    pending = [endpoint.handler for endpoint in project.endpoints if endpoint.handler not in opted_out]
    while pending:
        name = pending.pop()
        info = project.functions.get(name)
        if name in reached or info is None:
            continue
        reached.add(name)
        pending.extend(callee for callee in info.calls if callee not in reached)
    return reached


def _atomic_fix(site: CallSite) -> Fix | None:
    """`@transaction.atomic` right above the `def` (innermost, under the view's own decorators)."""
    detail = site.detail
    if detail.get("is_async") or not detail.get("def_line"):
        return None  # transaction.atomic does not wrap coroutines
    path = site.location.path
    line = int(detail["def_line"])
    indent = " " * int(detail.get("def_column", "0"))
    decorator = detail.get("atomic_ref") or "transaction.atomic"
    edits = []
    if not detail.get("atomic_ref"):
        at = Position(int(detail.get("imports_line", "0")), 0)
        edits.append(TextEdit(path, Span(at, at), "from django.db import transaction\n"))
    at = Position(line, 0)
    edits.append(TextEdit(path, Span(at, at), f"{indent}@{decorator}\n"))
    return Fix("Run the writes in one transaction (@transaction.atomic)", edits=tuple(edits), safe=False)


RULE = Rule(
    code="QRY003",
    name="writes-without-transaction",
    summary="Several commits or writes in one function run as separate transactions",
    check=check,
    options=Options,
    fixable=True,
)
