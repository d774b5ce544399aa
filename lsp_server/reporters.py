"""Reporters: turn a check's findings into text, JSON, SARIF 2.1.0 or GitHub workflow annotations.

Every reporter gets the same `Report` and returns a string for stdout. Positions in the engine are 0-based;
every format here shows them 1-based (columns count characters), with end columns exclusive, as ruff does.
Paths are shown relative to the current working directory with `/` separators.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzers.model import Finding, Fix, Location, Position
from analyzers.rules import CATEGORIES, Rule
from lsp_server import HOMEPAGE, __version__

TOOL_NAME = "plumbline"
JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "plumbline/v1"
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}
GITHUB_COMMANDS = {"error": "error", "warning": "warning", "info": "notice", "hint": "notice"}
# How many paths a note line names before it says "and N more".
NOTE_PATHS_SHOWN = 3


@dataclass(slots=True)
class Report:
    """What a check found, ready to render."""

    findings: list[Finding]
    root: Path
    cwd: Path
    rules: dict[str, Rule]
    notes: dict[str, list[str]] = field(default_factory=dict)  # project-relative path -> notes
    failures: list[str] = field(default_factory=list)
    files_checked: int = 0

    def display_path(self, relative: str) -> str:
        """A project-relative path as the user should see it: relative to the working directory."""
        absolute = self.root / relative
        try:
            shown = os.path.relpath(absolute, self.cwd)
        except ValueError:  # another drive on Windows
            shown = str(absolute)
        return shown.replace(os.sep, "/")

    def files_with_findings(self) -> list[str]:
        return sorted({finding.location.path for finding in self.findings})


# --------------------------------------------------------------------------------------------- positions


def one_based(position: Position) -> dict[str, int]:
    return {"line": position.line + 1, "column": position.column + 1}


def _end_position(location: Location) -> Position:
    """The span's end, never before its start (a malformed span must not produce an invalid region)."""
    start, end = location.span.start, location.span.end
    if (end.line, end.column) < (start.line, start.column):
        return start
    return end


# --------------------------------------------------------------------------------------------- text


class Style:
    """ANSI styling, or none at all."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def severity(self, severity: str, text: str) -> str:
        colour = {"error": "1;31", "warning": "1;33"}.get(severity, "1;36")
        return self._wrap(colour, text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(report: Report, style: Style) -> str:
    lines: list[str] = []
    by_path: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_path.setdefault(finding.location.path, []).append(finding)
    for path in sorted(by_path):
        shown = report.display_path(path)
        findings = by_path[path]
        lines.append(f"{style.bold(shown)} {style.dim('(' + _plural(len(findings), 'finding') + ')')}")
        for finding in findings:
            start = one_based(finding.location.span.start)
            where = f"{shown}:{start['line']}:{start['column']}"
            code = style.severity(finding.severity, finding.code)
            lines.append(f"{where} {code} {style.dim(finding.name)} {_one_line(finding.message)}")
        lines.append("")
    lines.extend(_note_lines(report, style))
    lines.append(_summary(report, style))
    return "\n".join(lines) + "\n"


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _summary(report: Report, style: Style) -> str:
    if not report.findings:
        return style.green("All checks passed.")
    fixable = sum(1 for finding in report.findings if finding.fixable)
    summary = (f"Found {_plural(len(report.findings), 'finding')} in "
               f"{_plural(len(report.files_with_findings()), 'file')}")
    if fixable:
        summary += f" ({fixable} fixable with a quick fix)"
    return style.bold(summary + ".")


def note_kind(note: str) -> str:
    """A note without its per-file detail, so notes of one kind group together."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", note).strip()


def _note_lines(report: Report, style: Style) -> list[str]:
    """Skipped and partly analysed files, one line per kind of note, with counts rather than noise."""
    by_kind: dict[str, list[str]] = {}
    for path in sorted(report.notes):
        for note in report.notes[path]:
            by_kind.setdefault(note_kind(note), []).append(report.display_path(path))
    if not by_kind:
        return []
    lines = []
    for kind in sorted(by_kind):
        paths = by_kind[kind]
        named = ", ".join(paths[:NOTE_PATHS_SHOWN])
        if len(paths) > NOTE_PATHS_SHOWN:
            named += f" and {len(paths) - NOTE_PATHS_SHOWN} more"
        lines.append(style.dim(f"note: {kind} ({_plural(len(paths), 'file')}): {named}"))
    lines.append("")
    return lines


# --------------------------------------------------------------------------------------------- JSON


def _location_json(report: Report, location: Location) -> dict[str, Any]:
    return {
        "path": report.display_path(location.path),
        "start": one_based(location.span.start),
        "end": one_based(_end_position(location)),
    }


def _fix_json(report: Report, fix: Fix) -> dict[str, Any]:
    return {
        "title": fix.title,
        "safe": fix.safe,
        "edits": [{**_location_json(report, Location(edit.path, edit.span)), "new_text": edit.new_text}
                  for edit in fix.edits],
        "creates": [{"path": report.display_path(create.path), "text": create.text} for create in fix.creates],
    }


def finding_json(report: Report, finding: Finding) -> dict[str, Any]:
    location = _location_json(report, finding.location)
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity,
        "message": finding.message,
        "path": location["path"],
        "start": location["start"],
        "end": location["end"],
        "fingerprint": finding.fingerprint,
        "fixable": finding.fixable,
        "fix": _fix_json(report, finding.fix) if finding.fix is not None else None,
        "related": [_location_json(report, related) for related in finding.related],
    }


def render_json(report: Report) -> str:
    document = {
        "version": JSON_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "findings": [finding_json(report, finding) for finding in report.findings],
        "notes": [{"path": report.display_path(path), "message": note}
                  for path in sorted(report.notes) for note in report.notes[path]],
    }
    # Compact: the indenting encoder is pure Python and costs more than a cached check on large projects.
    return json.dumps(document) + "\n"


# --------------------------------------------------------------------------------------------- SARIF


def rule_description(rule: Rule) -> str:
    """The first paragraph of the rule's "What it does" section, else its summary."""
    match = re.search(r"##\s*What it does\s*\n(.*?)(?:\n\s*\n|\n##|\Z)", rule.doc, re.S)
    text = " ".join(match.group(1).split()) if match else ""
    return text or rule.summary


def plain_text(markdown: str) -> str:
    """Rule documentation without markdown headings and code fences, for viewers that show raw text."""
    lines = [line for line in markdown.splitlines() if not line.startswith("```")]
    return "\n".join(line[3:] if line.startswith("## ") else line for line in lines)


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    doc = rule.doc or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule_description(rule)},
        "help": {"text": plain_text(doc), "markdown": doc},
        "defaultConfiguration": {"level": SARIF_LEVELS.get(rule.severity, "warning")},
        "properties": {"tags": [CATEGORIES.get(rule.category, rule.category)]},
    }


def _sarif_result(report: Report, finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    start = one_based(finding.location.span.start)
    end = one_based(_end_position(finding.location))
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": SARIF_LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": report.display_path(finding.location.path), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": start["line"], "startColumn": start["column"],
                           "endLine": end["line"], "endColumn": end["column"]},
            },
        }],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    return result


def render_sarif(report: Report) -> str:
    rules = list(report.rules.values())
    # Rules the registry does not know (should not happen) still need a descriptor for ruleIndex.
    for finding in report.findings:
        if finding.code not in report.rules and all(rule.code != finding.code for rule in rules):
            rules.append(Rule(code=finding.code, name=finding.name, summary=finding.name, check=lambda *_: ()))
    rule_index = {rule.code: index for index, rule in enumerate(rules)}
    run = {
        "tool": {"driver": {
            "name": TOOL_NAME,
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": HOMEPAGE,
            "rules": [_sarif_rule(rule) for rule in rules],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": report.cwd.resolve().as_uri() + "/"}},
        # Our columns count characters, not UTF-16 code units (SARIF's default).
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(report, finding, rule_index) for finding in report.findings],
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": failure}} for failure in report.failures
            ],
        }],
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document) + "\n"


# --------------------------------------------------------------------------------------------- GitHub


def escape_github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for finding in report.findings:
        start = one_based(finding.location.span.start)
        end = one_based(_end_position(finding.location))
        properties = {
            "file": report.display_path(finding.location.path),
            "line": str(start["line"]),
            "col": str(start["column"]),
            "endLine": str(end["line"]),
            "endColumn": str(end["column"]),
            "title": f"{finding.code} {finding.name}",
        }
        rendered = ",".join(f"{key}={escape_github_property(value)}" for key, value in properties.items())
        command = GITHUB_COMMANDS.get(finding.severity, "warning")
        lines.append(f"::{command} {rendered}::{escape_github_data(finding.message)}")
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------------------------- rules


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "category": rule.category,
        "category_name": CATEGORIES.get(rule.category, rule.category),
        "severity": rule.severity,
        "fixable": rule.fixable,
        "default_enabled": rule.default_enabled,
        "summary": rule.summary,
    }


def render_rules_json(rules: Iterable[Rule]) -> str:
    return json.dumps([rule_json(rule) for rule in rules], indent=2) + "\n"


def render_rules_text(rules: Iterable[Rule], style: Style) -> str:
    rows = [("CODE", "NAME", "CATEGORY", "SEVERITY", "FIXABLE", "SUMMARY")]
    for rule in rules:
        summary = rule.summary + ("" if rule.default_enabled else " (off unless selected)")
        rows.append((rule.code, rule.name, rule.category, rule.severity, "yes" if rule.fixable else "no", summary))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for number, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        line = "  ".join(cells)
        lines.append(style.bold(line) if number == 0 else line)
    return "\n".join(lines) + "\n"


def render_rule_doc(rule: Rule, style: Style) -> str:
    fixable = ", fixable" if rule.fixable else ""
    header = style.bold(f"{rule.code} {rule.name}") + style.dim(
        f" ({CATEGORIES.get(rule.category, rule.category)}, {rule.severity}{fixable})")
    return f"{header}\n\n{rule.doc or rule.summary}\n"
