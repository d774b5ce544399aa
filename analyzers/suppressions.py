"""`plumbline: ignore[CODE, ...] reason` comments, and the report of those that suppress nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzers.config import code_matches
from analyzers.facts import FileFacts
from analyzers.model import Finding, Location, Span

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


def parse_suppressions(facts: FileFacts) -> list[Suppression]:
    found: list[Suppression] = []
    for comment in facts.comments:
        if "plumbline" not in comment.text:
            continue
        for match in _DIRECTIVE.finditer(comment.text):
            codes = [code.strip() for code in (match.group(2) or "").split(",") if code.strip()]
            found.append(Suppression(comment.line, comment.column, comment.column + len(comment.text), codes,
                                     match.group(1) == "ignore-file"))
    return found


def apply_suppressions(findings: list[Finding], facts: FileFacts, report_unused: bool) -> list[Finding]:
    """Drop suppressed findings of one file; add a finding for each suppression that suppressed nothing."""
    suppressions = parse_suppressions(facts)
    if not suppressions:
        return findings
    kept: list[Finding] = []
    for finding in findings:
        if not _suppressed(finding, suppressions):
            kept.append(finding)
    if report_unused:
        for suppression in suppressions:
            unused = [code for code in suppression.codes if code not in suppression.used]
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


def _suppressed(finding: Finding, suppressions: list[Suppression]) -> bool:
    line = finding.location.span.start.line
    for suppression in suppressions:
        applies = suppression.whole_file or suppression.line in (line, line - 1)
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
