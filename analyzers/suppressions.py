"""`plumbline: ignore[CODE, ...] reason` comments, and the report of those that suppress nothing."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzers.config import code_matches
from analyzers.model import Finding, Location, Span

if TYPE_CHECKING:  # the rule registry imports this module; it must not pull in the parser
    from analyzers.facts import FileFacts

_DIRECTIVE = re.compile(r"plumbline:\s*(ignore-file|ignore)\s*(?:\[([^\]]*)\])?")
UNUSED_CODE = "PLB001"
UNUSED_NAME = "unused-suppression"


@dataclass(slots=True)
class Suppression:
    line: int
    column: int
    end_column: int
    codes: list[str]  # empty: every code
    whole_file: bool
    used: set[str] = field(default_factory=set)
    # A comment alone on its line also covers the line below; a trailing comment covers only its own line.
    own_line: bool = True


def parse_suppressions(facts: FileFacts) -> list[Suppression]:
    found: list[Suppression] = []
    for comment in facts.comments:
        if "plumbline" not in comment.text:
            continue
        for match in _DIRECTIVE.finditer(comment.text):
            codes = [code.strip().upper() for code in (match.group(2) or "").split(",") if code.strip()]
            found.append(Suppression(comment.line, comment.column, comment.column + len(comment.text), codes,
                                     match.group(1) == "ignore-file", own_line=comment.own_line))
    return found


def apply_suppressions(findings: list[Finding], facts: FileFacts, report_unused: bool,
                       active: Collection[str] | None = None, known: Collection[str] | None = None) -> list[Finding]:
    """Drop suppressed findings of one file; add a finding for each suppression that suppressed nothing.

    `active` are the codes of the rules that ran on this file and `known` every rule code: a suppression
    naming only rules that did not run (ignored, not selected) is not reported as unused, since it may well
    be needed under another selection; a code naming no rule at all (a typo) is.
    """
    suppressions = parse_suppressions(facts)
    if not suppressions:
        return findings
    kept: list[Finding] = []
    for finding in findings:
        if not _suppressed(finding, suppressions):
            kept.append(finding)
    if report_unused:
        for suppression in suppressions:
            unused = [code for code in suppression.codes
                      if code not in suppression.used and _could_have_been_used(code, active, known)]
            if not suppression.codes and not suppression.used:
                unused = ["all codes"]
            if unused:
                kind = "ignore-file" if suppression.whole_file else "ignore"
                kept.append(Finding(
                    code=UNUSED_CODE,
                    name=UNUSED_NAME,
                    severity="info",
                    message=f"`plumbline: {kind}` suppresses nothing here: {', '.join(unused)}",
                    location=Location(facts.path, Span.at(suppression.line, suppression.column,
                                                          suppression.line, suppression.end_column)),
                    fingerprint=f"{UNUSED_CODE}:{facts.path}:{kind}[{','.join(unused)}]",
                ))
    return kept


def _could_have_been_used(code: str, active: Collection[str] | None, known: Collection[str] | None) -> bool:
    if active is None or code_matches_any(active, code):
        return True
    return known is not None and not code_matches_any(known, code)


def code_matches_any(codes: Collection[str], selector: str) -> bool:
    """Whether the selector (a code or a prefix) names any of `codes`."""
    return any(code_matches(code, [selector]) for code in codes)


def _suppressed(finding: Finding, suppressions: list[Suppression]) -> bool:
    line = finding.location.span.start.line
    for suppression in suppressions:
        applies = (suppression.whole_file or suppression.line == line
                   or (suppression.own_line and suppression.line == line - 1))
        if not applies:
            continue
        if not suppression.codes:
            suppression.used.add(finding.code)
            return True
        for code in suppression.codes:
            if code_matches(finding.code, [code]):
                suppression.used.add(code)
                return True
    return False
