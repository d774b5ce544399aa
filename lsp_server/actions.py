"""Code actions, hover and the fix-all edit, computed from the latest results (never from a new analysis).

Every edit is computed against the text the findings were computed from and carries that document version, so
a client that has moved on since rejects it instead of applying it at the wrong place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from lsprotocol import types

from analyzers.model import Finding, Position, Span, TextEdit
from analyzers.rules import all_rules
from lsp_server.convert import EditSupport, FileView, diagnostic, on_lines, overlaps, workspace_edit
from lsp_server.workspace_state import RootState, ServerState, rule_url

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.plumbline"
AGENT_COMMAND = "plumbline.fixWithAgent"
_LINE_IGNORE = re.compile(r"plumbline:\s*ignore\[([^\]]*)\]")
_FILE_IGNORE = re.compile(r"plumbline:\s*ignore-file\[([^\]]*)\]")
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


@dataclass(slots=True)
class FileContext:
    """One file's latest results, as the handlers see them."""

    state: ServerState
    root: RootState
    relative: str
    view: FileView

    @staticmethod
    def of(state: ServerState, uri: str) -> FileContext | None:
        located = state.locate(uri)
        if located is None or located[0].result is None:
            return None
        root, relative = located
        return FileContext(state, root, relative, root.finding_view(relative))

    @property
    def findings(self) -> list[Finding]:
        assert self.root.result is not None
        return self.root.result.findings.get(self.relative, [])

    def viewer(self, relative: str) -> FileView:
        return self.view if relative == self.relative else self.root.finding_view(relative)

    def diagnostic(self, finding: Finding) -> types.Diagnostic:
        return diagnostic(finding, self.view, self.viewer, self.state.encoding, rule_url(finding.code))

    def edit(self, edits: tuple[TextEdit, ...] | list[TextEdit], creates: tuple = ()) -> types.WorkspaceEdit | None:
        return workspace_edit(edits, creates, self.viewer, self.state.encoding, EditSupport.of(self.state.capabilities))

    @property
    def comment_marker(self) -> str:
        return "--" if self.relative.endswith(".sql") else "#"


# --------------------------------------------------------------------------------------------- code actions


def code_actions(state: ServerState, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    context = FileContext.of(state, params.text_document.uri)
    if context is None:
        return None
    only = params.context.only
    actions: list[types.CodeAction] = []
    ignored_in_file: set[str] = set()
    for finding in context.findings:
        diag = context.diagnostic(finding)
        if not on_lines(diag.range, params.range):
            continue
        if _wanted(types.CodeActionKind.QuickFix, only):
            actions.extend(_finding_actions(context, finding, diag, ignored_in_file))
    if _wanted(FIX_ALL_KIND, only):
        fix_all = fix_all_action(context)
        if fix_all is not None:
            actions.append(fix_all)
    return actions or None


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    """`only` holds kinds or their parents: `source` and `source.fixAll` both ask for `source.fixAll.plumbline`."""
    if only is None:
        return True
    wanted = [item.value if isinstance(item, Enum) else str(item) for item in only]
    return any(kind == item or kind.startswith(f"{item}.") for item in wanted)


def _finding_actions(context: FileContext, finding: Finding, diag: types.Diagnostic,
                     ignored_in_file: set[str]) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    fix = finding.fix
    if fix is not None:
        edit = context.edit(fix.edits, fix.creates)
        if edit is not None:
            actions.append(types.CodeAction(
                title=fix.title if fix.safe else f"{fix.title} (unsafe)", kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag], edit=edit, is_preferred=fix.safe))
    line = finding.location.span.start.line
    actions.append(types.CodeAction(
        title=f"Ignore {finding.code} on this line", kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
        edit=context.edit([ignore_line_edit(context, line, finding.code)])))
    if finding.code not in ignored_in_file:
        ignored_in_file.add(finding.code)
        actions.append(types.CodeAction(
            title=f"Ignore {finding.code} in this file", kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
            edit=context.edit([ignore_file_edit(context, finding.code)])))
    arguments = {"uri": context.view.uri, "fingerprint": finding.fingerprint}
    actions.append(types.CodeAction(
        title=f"Fix {finding.code} with agent", kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
        command=types.Command(title="Fix with agent", command=AGENT_COMMAND, arguments=[arguments])))
    return actions


def ignore_line_edit(context: FileContext, line: int, code: str) -> TextEdit:
    """`plumbline: ignore[CODE]` at the end of the line, or added to the one already there."""
    text = context.view.lines.line(line).rstrip("\r")
    existing = _LINE_IGNORE.search(text)
    if existing is not None:
        at = Position(line, existing.end(1))
        return TextEdit(context.relative, Span(at, at), f", {code}" if existing.group(1).strip() else code)
    marker = context.comment_marker
    if text.rstrip().endswith("\\") or not text.strip():
        # After a line continuation a comment is a syntax error: the line above is the other place that counts.
        indent = text[: len(text) - len(text.lstrip())]
        at = Position(line, 0)
        return TextEdit(context.relative, Span(at, at), f"{indent}{marker} plumbline: ignore[{code}]\n")
    at = Position(line, len(text))
    return TextEdit(context.relative, Span(at, at), f"  {marker} plumbline: ignore[{code}]")


def ignore_file_edit(context: FileContext, code: str) -> TextEdit:
    """`plumbline: ignore-file[CODE]` at the top (after a shebang and an encoding line), or added to one."""
    lines = context.view.lines.lines
    for number, text in enumerate(lines):
        existing = _FILE_IGNORE.search(text)
        if existing is not None:
            at = Position(number, existing.end(1))
            return TextEdit(context.relative, Span(at, at), f", {code}" if existing.group(1).strip() else code)
    line = 0
    while line < min(2, len(lines)) and (lines[line].startswith("#!") or _CODING.match(lines[line])):
        line += 1
    at = Position(line, 0)
    return TextEdit(context.relative, Span(at, at), f"{context.comment_marker} plumbline: ignore-file[{code}]\n")


# --------------------------------------------------------------------------------------------- fix all


def safe_fixes_edits(context: FileContext) -> list[TextEdit]:
    """The edits of every safe fix that stays inside this file, without overlaps or repeats."""
    chosen: list[TextEdit] = []
    for finding in context.findings:
        fix = finding.fix
        if fix is None or not fix.safe or fix.creates or any(e.path != context.relative for e in fix.edits):
            continue
        fresh = [edit for edit in fix.edits if edit not in chosen]
        if any(_collide(edit, other) for edit in fresh for other in chosen):
            continue  # it will be offered again once the first fix is applied
        chosen.extend(fresh)
    return chosen


def _collide(first: TextEdit, second: TextEdit) -> bool:
    """Edits that touch the same text. Insertions at one place do not: they apply one after the other."""
    a_start, a_end = _point(first.span.start), _point(first.span.end)
    b_start, b_end = _point(second.span.start), _point(second.span.end)
    if a_start == a_end and b_start == b_end:
        return False
    if a_start == a_end:
        return b_start < a_start < b_end
    if b_start == b_end:
        return a_start < b_start < a_end
    return a_start < b_end and b_start < a_end


def _point(position: Position) -> tuple[int, int]:
    return (position.line, position.column)


def fix_all_action(context: FileContext) -> types.CodeAction | None:
    edits = safe_fixes_edits(context)
    if not edits:
        return None
    edit = context.edit(edits)
    if edit is None:
        return None
    return types.CodeAction(title="Plumbline: fix all safe fixes", kind=FIX_ALL_KIND, edit=edit)


def fix_all_edit(state: ServerState, uri: str) -> types.WorkspaceEdit | None:
    context = FileContext.of(state, uri)
    if context is None:
        return None
    edits = safe_fixes_edits(context)
    return context.edit(edits) if edits else None


# --------------------------------------------------------------------------------------------- documentation


def rule_markdown(code: str) -> str | None:
    rule = all_rules().get(code.strip().upper())
    if rule is None:
        return None
    return f"### {rule.code} `{rule.name}`\n\n{rule.summary}\n\n{rule.doc}".rstrip() + "\n"


def hover(state: ServerState, params: types.HoverParams) -> types.Hover | None:
    context = FileContext.of(state, params.text_document.uri)
    if context is None:
        return None
    point = types.Range(start=params.position, end=params.position)
    parts: list[str] = []
    first: types.Range | None = None
    for finding in context.findings:
        diag = context.diagnostic(finding)
        if not overlaps(diag.range, point):
            continue
        first = first or diag.range
        docs = rule_markdown(finding.code) or f"### {finding.code}\n"
        parts.append(f"**{finding.message}**\n\n{docs}")
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n---\n".join(parts)),
                       range=first)
