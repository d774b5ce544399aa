"""Expected findings written inline in fixture projects, and the comparison both ways.

A line that should carry a finding says so in a comment: `# expect: DB003` (Python, TOML, INI) or
`-- expect: DB003` (SQL); several codes separate with commas. Every other line must carry none.
"""

from __future__ import annotations

import re
from pathlib import Path

from analyzers.config import load_config
from analyzers.engine import Workspace

_EXPECT = re.compile(r"(?:#|--|//)\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def expected_findings(root: Path) -> set[tuple[str, int, str]]:
    """(path, 1-based line, code) for every `expect:` comment under `root`."""
    expected: set[tuple[str, int, str]] = set()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or not _may_expect(path):
            continue
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                for code in match.group(1).split(","):
                    expected.add((relative, number, code.strip()))
    return expected


def _may_expect(path: Path) -> bool:
    """Files that can carry `expect:` comments: sources and the committed config files the engine reads
    (compose files, `.env.example`)."""
    return path.suffix in (".py", ".sql", ".ini", ".toml", ".cfg", ".txt", ".yml", ".yaml") or (
        path.name.startswith(".env") or path.name.startswith("env."))


def actual_findings(root: Path, codes: set[str] | None = None) -> set[tuple[str, int, str]]:
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    result = workspace.check()
    assert not result.failures, result.failures
    return {
        (finding.location.path, finding.location.span.start.line + 1, finding.code)
        for finding in result.all_findings()
        if codes is None or finding.code in codes
    }


def compare(root: Path, codes: set[str] | None = None) -> tuple[set, set]:
    """(missing, unexpected) findings of the fixture project at `root`."""
    expected = expected_findings(root)
    if codes is not None:
        expected = {item for item in expected if item[2] in codes}
    actual = actual_findings(root, codes)
    return expected - actual, actual - expected
