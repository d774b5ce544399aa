"""Reusing a rule's findings from the last check when nothing the rule read of the project has changed.

A rule is a pure function of the project and its options, and reads the project only through the project's
fields (directly, or through methods such as `table`, `calls_of` and `request_path`). While a rule runs, the
project's class is switched to `_NotingProject`, which notes every field read; a value `Project.derived`
computes once for several rules counts, for every rule that asks for it, as the fields its computation read.
The next check compares just those fields with the new project's, by value and once per field, and when all
are equal and the options too, the rule's findings stand without running it.

The language server checks the whole project after an edit that reaches across files: a model edit leaves the
endpoints, calls and functions as they were, and the rules that read only those need not run again.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from analyzers.model import Finding, Project

ValueT = TypeVar("ValueT")

FIELDS = frozenset(item.name for item in dataclasses.fields(Project) if not item.name.startswith("_"))
# Private fields a method might memoise into: reading one hides what it was computed from, so it counts as
# reading everything. (`_derived` is handled: it notes what each derived value was computed from.)
_HIDDEN = frozenset(item.name for item in dataclasses.fields(Project) if item.name.startswith("_")) - {"_derived"}

_noting = threading.local()  # .reads: the fields the running rule read; .derived: per derived key, its fields


class _NotingProject(Project):
    """The same object, seen while a rule runs: every field read is noted."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name in FIELDS:
            _noting.reads.add(name)
        elif name in _HIDDEN:
            _noting.reads.update(FIELDS)
        return object.__getattribute__(self, name)

    def derived(self, key: str, compute: Callable[[Project], ValueT]) -> ValueT:
        memo: dict[str, Any] = object.__getattribute__(self, "_derived")
        if key in memo:
            # Computed by an earlier rule (its fields noted then), or before the rules (then: anything).
            _noting.reads.update(_noting.derived.get(key, FIELDS))
            return memo[key]  # type: ignore[no-any-return]
        outer, _noting.reads = _noting.reads, set()
        try:
            return Project.derived(self, key, compute)
        finally:
            inner, _noting.reads = _noting.reads, outer
            _noting.derived[key] = inner
            outer.update(inner)


@dataclass(slots=True)
class RuleRun:
    """A rule's findings, the options it ran with, and the value of every project field it read."""

    findings: list[Finding]
    options: Any
    read: dict[str, Any]


class RuleRunner:
    """Runs the rules of one check over `project`, reusing runs of the last check (`previous`) where they stand."""

    def __init__(self, project: Project, previous: dict[str, RuleRun]) -> None:
        self.project = project
        self.previous = previous
        self.runs: dict[str, RuleRun] = {}
        self._same: dict[str, bool] = {}  # field → equal to the last check's (every kept run holds its values)
        _noting.derived = {}

    def run(self, code: str, options: Any, check: Callable[[Project, Any], Iterable[Finding]]) -> list[Finding]:
        """The rule's findings; raises what the rule raises (and then keeps no run for it)."""
        before = self.previous.get(code)
        if before is not None and before.options == options and all(
                self._unchanged(name, value) for name, value in before.read.items()):
            findings = before.findings
            read: Iterable[str] = before.read
        else:
            findings, read = self._noting(check, options)
        self.runs[code] = RuleRun(findings, options, {name: getattr(self.project, name) for name in read})
        return findings

    def _unchanged(self, name: str, value: Any) -> bool:
        same = self._same.get(name)
        if same is None:
            same = self._same[name] = bool(getattr(self.project, name) == value)
        return same

    def _noting(self, check: Callable[[Project, Any], Iterable[Finding]], options: Any) -> tuple[list[Finding],
                                                                                                 set[str]]:
        project = self.project
        reads: set[str] = set()
        _noting.reads = reads
        project.__class__ = _NotingProject
        try:
            findings = list(check(project, options))
        finally:
            project.__class__ = Project
        return findings, reads
