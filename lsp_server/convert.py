"""The engine's model ↔ LSP types.

The engine counts positions in characters (code points) from 0; LSP counts in the negotiated position encoding,
UTF-16 code units unless the client offered another. The two differ only on lines holding characters outside
the Basic Multilingual Plane (emoji, some CJK), so every conversion takes the line's text and goes fast on ASCII.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from analyzers import model

SOURCE = "plumbline"
SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


# --------------------------------------------------------------------------------------------- columns


def to_lsp_column(line: str, column: int, encoding: str) -> int:
    """A character column of `line` in the client's position encoding."""
    if encoding == types.PositionEncodingKind.Utf32 or line.isascii():
        return column
    prefix = line[:column]
    if encoding == types.PositionEncodingKind.Utf8:
        return len(prefix.encode("utf-8"))
    return len(prefix) + sum(1 for char in prefix if ord(char) > 0xFFFF)


def from_lsp_column(line: str, column: int, encoding: str) -> int:
    """A column in the client's position encoding as a character column of `line`."""
    if encoding == types.PositionEncodingKind.Utf32 or line.isascii():
        return min(column, len(line))
    if encoding == types.PositionEncodingKind.Utf8:
        return len(line.encode("utf-8")[:column].decode("utf-8", errors="ignore"))
    units = 0
    for index, char in enumerate(line):
        if units >= column:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)


class Lines:
    """A text split into lines the way tree-sitter counts them (on `\\n`), for position conversion."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")

    def line(self, number: int) -> str:
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def to_lsp(self, position: model.Position, encoding: str) -> types.Position:
        line = max(0, position.line)
        return types.Position(line=line, character=to_lsp_column(self.line(line), max(0, position.column),
                                                                  encoding))

    def from_lsp(self, position: types.Position, encoding: str) -> model.Position:
        return model.Position(position.line, from_lsp_column(self.line(position.line), position.character, encoding))

    def range(self, span: model.Span, encoding: str) -> types.Range:
        return types.Range(start=self.to_lsp(span.start, encoding), end=self.to_lsp(span.end, encoding))

    def offset(self, position: model.Position) -> int:
        """The string index of a (line, character) position; clamped to the text."""
        if position.line >= len(self.lines):
            return len(self.text)
        start = sum(len(line) + 1 for line in self.lines[: position.line])
        return start + min(position.column, len(self.lines[position.line]))


EMPTY = Lines("")


# --------------------------------------------------------------------------------------------- paths


def path_to_uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def uri_to_path(uri: str) -> Path | None:
    """The file a `file:` URI names; None for other schemes (untitled buffers, git views, ...)."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


@dataclass(slots=True)
class FileView:
    """How a project-relative path is seen by the client: its URI, the text positions refer to, its version."""

    uri: str
    lines: Lines
    version: int | None = None


# A function giving the view of a project-relative path (open document or file on disk).
Viewer = Callable[[str], FileView]


# --------------------------------------------------------------------------------------------- diagnostics


def diagnostic(finding: model.Finding, view: FileView, viewer: Viewer, encoding: str,
               doc_url: str | None = None) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=other.uri, range=other.lines.range(location.span, encoding)),
            message=f"related: {location.path}:{location.span.start.line + 1}",
        )
        for location in finding.related
        for other in [viewer(location.path)]
    ]
    return types.Diagnostic(
        range=view.lines.range(finding.location.span, encoding),
        message=finding.message,
        severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=types.CodeDescription(href=doc_url) if doc_url else None,
        source=SOURCE,
        data={"fingerprint": finding.fingerprint},
        related_information=related or None,
    )


def contains(outer: types.Range, inner: types.Range) -> bool:
    return _before_or_at(outer.start, inner.start) and _before_or_at(inner.end, outer.end)


def overlaps(first: types.Range, second: types.Range) -> bool:
    """Ranges that share a position (touching ends count: a cursor at a diagnostic's edge is on it)."""
    return _before_or_at(first.start, second.end) and _before_or_at(second.start, first.end)


def on_lines(first: types.Range, second: types.Range) -> bool:
    """Ranges on a common line: a cursor anywhere on a diagnostic's line gets its code actions."""
    return first.start.line <= second.end.line and second.start.line <= first.end.line


def _before_or_at(first: types.Position, second: types.Position) -> bool:
    return (first.line, first.character) <= (second.line, second.character)


# --------------------------------------------------------------------------------------------- edits


@dataclass(frozen=True, slots=True)
class EditSupport:
    """What the client accepts in a WorkspaceEdit."""

    document_changes: bool = False
    create_files: bool = False

    @staticmethod
    def of(capabilities: types.ClientCapabilities) -> EditSupport:
        workspace_edit = capabilities.workspace.workspace_edit if capabilities.workspace else None
        if workspace_edit is None:
            return EditSupport()
        operations = workspace_edit.resource_operations or []
        return EditSupport(bool(workspace_edit.document_changes), types.ResourceOperationKind.Create in operations)


def text_edits(edits: Iterable[model.TextEdit], lines: Lines, encoding: str) -> list[types.TextEdit]:
    ordered = sorted(edits, key=lambda edit: (edit.span.start.line, edit.span.start.column))
    return [types.TextEdit(range=lines.range(edit.span, encoding), new_text=edit.new_text) for edit in ordered]


def workspace_edit(edits: Iterable[model.TextEdit], creates: Iterable[model.CreateFile], viewer: Viewer,
                   encoding: str, support: EditSupport) -> types.WorkspaceEdit | None:
    """A WorkspaceEdit for a fix; None when it needs something the client cannot do (create a file)."""
    creates = list(creates)
    if creates and not (support.document_changes and support.create_files):
        return None
    by_path: dict[str, list[model.TextEdit]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(edit)
    if not support.document_changes:
        changes: dict[str, list[types.TextEdit]] = {}
        for path, path_edits in by_path.items():
            view = viewer(path)
            changes[view.uri] = text_edits(path_edits, view.lines, encoding)
        return types.WorkspaceEdit(changes=changes)
    document_changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    for path, path_edits in by_path.items():
        view = viewer(path)
        document_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=view.uri, version=view.version),
            edits=list(text_edits(path_edits, view.lines, encoding)),
        ))
    for created in creates:
        uri = viewer(created.path).uri
        # Fail rather than overwrite: a file that appeared meanwhile is the user's.
        document_changes.append(types.CreateFile(
            uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)))
        document_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                                    end=types.Position(line=0, character=0)),
                                  new_text=created.text)],
        ))
    return types.WorkspaceEdit(document_changes=document_changes)
