"""What the CFG rules and the code-level SRV rules (SRV006-SRV008) share: which files are tests, how a request
is named, and the fixes the `config_code` extractor plans in `CallSite.detail`. Not a rule (no `RULE`)."""

from __future__ import annotations

import fnmatch
import re

from analyzers.model import CallSite, Fix, Project, Span, TextEdit, decode_span, reach
from analyzers.rules._http_rules import endpoint_of

_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|fixtures)/|(^|/)test_[^/]*\.py$|_tests?\.py$|(^|/)conftest\.py$")


def is_test_path(path: str) -> bool:
    """Test suites and their fixtures: credentials and prints there are not the application's."""
    return bool(_TEST_PATH.search(path))


def matches_any(name: str, patterns: list[str]) -> bool:
    """Case-insensitive glob match of a name against option patterns (`"FEATURE_*"`)."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def short_name(function: str | None) -> str:
    """`app.routes.orders.list_orders` → `list_orders()`; methods keep their class."""
    if not function:
        return "module level"
    parts = function.replace(".<locals>", "").split(".")
    tail = parts[-2:] if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1:]
    return ".".join(tail) + "()"


def serving(project: Project, function: str | None) -> str | None:
    """The request that runs `function` ("GET /orders"), or None when no endpoint reaches it."""
    if function is None:
        return None
    handler = project.request_path().get(function)
    if handler is None:
        return None
    if handler in project.request_hooks:
        return f"every request ({project.request_hooks[handler]})"
    endpoint = endpoint_of(project, handler)
    if endpoint is None:
        return short_name(handler)
    return f"{'/'.join(endpoint.methods)} {endpoint.path or '/'}"


def running(project: Project, function: str | None) -> str | None:
    """What runs `function` on the backend: the request ("POST /orders"), else the background job ("task
    send_receipt()", "worker loop in consume()"); None when neither reaches it."""
    request = serving(project, function)
    if request is not None or function is None:
        return request
    return project.derived("job_path", _job_path).get(function)


def _job_path(project: Project) -> dict[str, str]:
    """Functions a background job runs (a Celery/RQ task, a `while True:` loop consuming a queue, and what they
    call) → the job, named."""
    stack = [(call.function, f"task {short_name(call.function)}") for call in project.calls_of("task")
             if call.function]
    stack += [(call.function, f"worker loop in {short_name(call.function)}")
              for call in project.calls_of("worker_loop") if call.function]
    return reach(project, stack)


def planned_fix(site: CallSite, title: str, safe: bool = False) -> Fix | None:
    """The replacement the extractor planned (`fix_span` → `fix_text`), plus the import it needs."""
    span = decode_span(site.detail.get("fix_span"))
    text = site.detail.get("fix_text")
    if span is None or not text:
        return None
    path = site.location.path
    edits = [TextEdit(path, span, text)]
    import_text = site.detail.get("fix_import")
    import_line = site.detail.get("fix_import_line", "")
    if import_text and import_line.isdigit():
        edits.insert(0, TextEdit(path, Span.at(int(import_line), 0), import_text))
    return Fix(title, edits=tuple(edits), safe=safe)
