"""Verification: the engine, re-run on the overlay, is the agent's acceptance test.

A change passes when every changed file still parses (no new syntax errors), no suppression comment was added,
the target finding is gone and no finding is new. "Implement endpoint" also needs a new endpoint the engine can
see and a new migration that follows the current head. Problems carry locations so they can go back to the model.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from analyzers.config import Config
from analyzers.discovery import language_of
from analyzers.engine import CheckResult, Workspace
from analyzers.facts import FileFacts
from analyzers.model import Finding
from analyzers.parsing import parse
from lsp_server.agent.overlay import Change, Overlay

_SUPPRESSION = re.compile(r"plumbline:\s*ignore")
_REVISION = re.compile(r"""^\s*(down_revision|revision)\s*(?::[^=]+)?=\s*['"]([^'"]+)['"]""", re.M)
MAX_PROBLEMS = 12


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int  # 0-based
    column: int  # 0-based
    message: str

    def describe(self) -> str:
        return f"{self.path}:{self.line + 1}:{self.column + 1}: {self.message}"


@dataclass(slots=True)
class Verification:
    problems: list[Problem] = field(default_factory=list)
    result: CheckResult | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        """The problems as the model (and the user) should read them."""
        lines = [problem.describe() for problem in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"... and {len(self.problems) - MAX_PROBLEMS} more")
        return "\n".join(f"- {line}" for line in lines)


class EngineSnapshot:
    """The engine's facts at the start of a job, copied so the language server can go on editing its own."""

    def __init__(self, root: Path, config: Config, files: dict[str, FileFacts]) -> None:
        self.root = root
        self.config = config
        self.files = dict(files)
        self._baseline: CheckResult | None = None

    @classmethod
    def of(cls, workspace: Workspace) -> EngineSnapshot:
        return cls(workspace.root, workspace.config, workspace.files)

    def workspace(self, texts: dict[str, str] | None = None) -> Workspace:
        workspace = Workspace(self.root, self.config)
        workspace.files = dict(self.files)
        for path, text in (texts or {}).items():
            if language_of(path):
                workspace.update_file(path, text.encode("utf-8", errors="surrogatepass"))
        return workspace

    def baseline(self) -> CheckResult:
        if self._baseline is None:
            self._baseline = self.workspace().check()
        return self._baseline

    def check_with(self, texts: dict[str, str]) -> CheckResult:
        return self.workspace(texts).check() if texts else self.baseline()

    def findings_provider(self, overlay: Overlay):
        """`file_findings` for the tools: a file's findings on the overlay as it is now."""

        def findings_for(path: str) -> list[str]:
            result = self.check_with(overlay.changed_texts())
            return [f"{f.code} line {f.location.span.start.line + 1}: {f.message} (fingerprint {f.fingerprint})"
                    for f in result.findings.get(path, [])]

        return findings_for


def verify(snapshot: EngineSnapshot, overlay: Overlay, target: str | None, implement: bool = False) -> Verification:
    return verify_changes(snapshot, overlay.changes(), target, implement)


def verify_changes(snapshot: EngineSnapshot, changes: list[Change], target: str | None,
                   implement: bool = False) -> Verification:
    """`changes` checked against `snapshot`, the engine's facts before them."""
    problems: list[Problem] = []
    for change in changes:
        problems.extend(syntax_problems(change))
        problems.extend(added_suppressions(change))
    result = snapshot.check_with({change.path: change.after for change in changes})
    before = snapshot.baseline()
    if target is not None:
        problems.extend(target_problems(result, target))
    problems.extend(new_finding_problems(before, result))
    if implement:
        problems.extend(endpoint_problems(before, result, changes))
        problems.extend(migration_problems(before, result, changes))
    return Verification(problems, result)


# --------------------------------------------------------------------------------------------- checks


def syntax_problems(change: Change) -> list[Problem]:
    language = language_of(change.path)
    if language not in ("python", "sql"):
        return []
    before_errors = _error_positions(language, change.before) if change.before is not None else []
    after_errors = _error_positions(language, change.after)
    problems: list[Problem] = []
    if len(after_errors) > len(before_errors):
        known = set(before_errors)
        fresh = [position for position in after_errors if position not in known] or after_errors
        problems.extend(Problem(change.path, line, column, "syntax error") for line, column in fresh[:3])
    if language == "python" and not problems:
        problem = _python_compile_problem(change)
        if problem is not None:
            problems.append(problem)
    return problems


def _error_positions(language: str, text: str) -> list[tuple[int, int]]:
    tree = parse(language, text.encode("utf-8", errors="surrogatepass"))
    found: list[tuple[int, int]] = []
    stack: list[Node] = [tree.root_node]
    while stack and len(found) < 50:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(node.start_point)
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return found


def _python_compile_problem(change: Change) -> Problem | None:
    """What tree-sitter forgives and Python does not (indentation, a misplaced `return`)."""
    if change.before is not None and _compile_error(change.before) is not None:
        return None  # it did not compile before: not ours to judge
    error = _compile_error(change.after)
    if error is None:
        return None
    return Problem(change.path, max((error.lineno or 1) - 1, 0), max((error.offset or 1) - 1, 0),
                   f"Python cannot compile it: {error.msg}")


def _compile_error(text: str) -> SyntaxError | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        return error
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def added_suppressions(change: Change) -> list[Problem]:
    before = len(_SUPPRESSION.findall(change.before or ""))
    if len(_SUPPRESSION.findall(change.after)) <= before:
        return []
    line = next((number for number, text in enumerate(change.after.split("\n")) if _SUPPRESSION.search(text)
                 and text not in (change.before or "")), 0)
    return [Problem(change.path, line, 0, "a `plumbline: ignore` comment hides a finding instead of fixing it; "
                                          "remove it and fix the code")]


def target_problems(result: CheckResult, target: str) -> list[Problem]:
    return [_at(finding, f"the finding is still reported: {finding.code} {finding.message}")
            for finding in result.all_findings() if finding.fingerprint == target]


def new_finding_problems(before: CheckResult, after: CheckResult) -> list[Problem]:
    remaining = Counter(finding.fingerprint for finding in before.all_findings())
    problems: list[Problem] = []
    for finding in after.all_findings():
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            continue
        problems.append(_at(finding, f"new finding {finding.code} ({finding.name}): {finding.message}"))
    return problems


def endpoint_problems(before: CheckResult, after: CheckResult, changes: list[Change]) -> list[Problem]:
    """An implemented endpoint must be one the engine sees, when it sees the project's existing ones."""
    if not before.project.endpoints:
        return []
    known = {(endpoint.path, endpoint.methods) for endpoint in before.project.endpoints}
    if any((endpoint.path, endpoint.methods) not in known for endpoint in after.project.endpoints):
        return []
    where = changes[0].path if changes else ""
    return [Problem(where, 0, 0, "no new endpoint is registered: define the route and register it (router, "
                                 "blueprint, urls) the way the project's existing endpoints are")]


def migration_problems(before: CheckResult, after: CheckResult, changes: list[Change]) -> list[Problem]:
    """A new migration must follow the current head (one line of history, no second head)."""
    order = before.project.migration_order
    if not order:
        return []
    head = order[-1][0]
    problems: list[Problem] = []
    created = [change for change in changes if change.before is None]
    after_order = [revision for revision, _ in after.project.migration_order]
    for change in created:
        revisions = dict((key, value) for key, value in _REVISION.findall(change.after))
        if "revision" not in revisions:
            continue
        follows = revisions.get("down_revision")
        in_line = after_order[: len(order)] == [revision for revision, _ in order]
        if follows != head or not in_line:
            line = next((number for number, text in enumerate(change.after.split("\n"))
                         if text.strip().startswith("down_revision")), 0)
            problems.append(Problem(change.path, line, 0, f"the new migration must follow the current head: "
                                                          f"down_revision = {head!r} (it says {follows!r})"))
    return problems


def _at(finding: Finding, message: str) -> Problem:
    start = finding.location.span.start
    return Problem(finding.location.path, start.line, start.column, message)

