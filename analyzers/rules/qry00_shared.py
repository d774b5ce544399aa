"""What the QRY rules share: where a function runs (the request it serves), which files are tests, and the
spans the data-access extractor encodes in `CallSite.detail`. Not a rule (no `RULE`)."""

from __future__ import annotations

import re

from analyzers.model import CallSite, Project
from analyzers.rules._http_rules import endpoint_of

_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_tests?\.py$|(^|/)conftest\.py$")
_MIGRATION_PATH = re.compile(r"(^|/)(migrations|alembic|versions)/")


def serving(project: Project, function: str | None) -> str | None:
    """How the request that runs `function` is named ("GET /orders"), or None when no request runs it."""
    if function is None:
        return None
    handler = project.request_path().get(function)
    if handler is None:
        return None
    if handler in project.request_hooks:
        return f"every request ({project.request_hooks[handler]})"
    endpoint = endpoint_of(project, handler)
    if endpoint is None:
        return handler.rsplit(".", 1)[-1] + "()"
    return f"{'/'.join(endpoint.methods)} {endpoint.path or '/'}"


def is_test_or_migration(path: str) -> bool:
    return bool(_TEST_PATH.search(path) or _MIGRATION_PATH.search(path))


def short_name(function: str | None) -> str:
    """`app.services.orders.create_order` → `create_order()`; methods keep their class."""
    if not function:
        return "module level"
    parts = function.replace(".<locals>", "").split(".")
    tail = parts[-2:] if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1:]
    return ".".join(tail) + "()"


def ordinal_fingerprints(sites: list[CallSite], key: str) -> dict[int, str]:
    """Fingerprint entities "<function>:<key value>" numbered when a function has several (#2, #3...), in
    source order, so they stay stable when lines move."""
    counts: dict[str, int] = {}
    result: dict[int, str] = {}
    for site in sorted(sites, key=lambda site: (site.location.path, site.location.span.start.line,
                                                 site.location.span.start.column)):
        base = f"{site.function or site.location.path}:{site.detail.get(key) or site.callee}"
        counts[base] = counts.get(base, 0) + 1
        result[id(site)] = base if counts[base] == 1 else f"{base}#{counts[base]}"
    return result
