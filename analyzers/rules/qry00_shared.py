"""What the QRY rules share: where a function runs (the request it serves), which files are tests, and the
spans the data-access extractor encodes in `CallSite.detail`. Not a rule (no `RULE`)."""

from __future__ import annotations

import re

from analyzers.model import CallSite

# The same answers as the configuration and server rules give (re-exported for the QRY rules).
from analyzers.rules.cfg00_shared import serving as serving
from analyzers.rules.cfg00_shared import short_name as short_name

_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_tests?\.py$|(^|/)conftest\.py$")
_MIGRATION_PATH = re.compile(r"(^|/)(migrations|alembic|versions)/")


def is_test_or_migration(path: str) -> bool:
    return bool(_TEST_PATH.search(path) or _MIGRATION_PATH.search(path))


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
