"""Delivery: the verified change as minimal hunks, one `WorkspaceEdit`, or a unified diff for the terminal.

Each changed file becomes line hunks (difflib); a hunk is content-anchored (its old lines plus a few lines of
context), so when the user edited the file while the agent worked, the same replacements can be found again in
the new text. When they cannot be found exactly once, delivery stops: a user's edit is never overwritten.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types as lsp

from lsp_server.agent.overlay import Change

CONTEXT_LINES = 3
ANNOTATION_ID = "plumbline.agent"
UTF16 = lsp.PositionEncodingKind.Utf16
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


class DeliveryError(Exception):
    """The change cannot reach the editor safely; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Hunk:
    start: int  # first replaced line of the old text (0-based)
    end: int  # after the last replaced line (exclusive)
    old: tuple[str, ...]
    new: tuple[str, ...]
    before: tuple[str, ...]  # context lines above
    after: tuple[str, ...]  # context lines below


@dataclass(frozen=True, slots=True)
class FileEdit:
    """One file's change as it goes to the editor."""

    path: str
    uri: str
    before: str | None  # None: a new file
    after: str
    version: int | None  # the open document's version; None for files the editor does not have open


def split_lines(text: str) -> list[str]:
    """Lines with their `\\n` (LSP counts lines by line breaks; Python's splitlines knows too many)."""
    return _LINE.findall(text)


def hunks(before: str, after: str) -> list[Hunk]:
    old = split_lines(before)
    new = split_lines(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    result: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        result.append(Hunk(i1, i2, tuple(old[i1:i2]), tuple(new[j1:j2]),
                           tuple(old[max(0, i1 - CONTEXT_LINES):i1]), tuple(old[i2:i2 + CONTEXT_LINES])))
    return result


def rebase(change: Change, current: str | None) -> str | None:
    """The agent's change applied to the file's current text, or None when it cannot be placed exactly."""
    if current == change.before:
        return change.after
    if change.before is None or current is None:
        return None  # a new file that now exists, or a file that was deleted meanwhile
    lines = split_lines(current)
    placed: list[tuple[int, int, tuple[str, ...]]] = []
    for hunk in hunks(change.before, change.after):
        start = _locate(lines, hunk)
        if start is None:
            return None
        placed.append((start, start + len(hunk.old), hunk.new))
    placed.sort()
    for (_, end, _), (next_start, _, _) in zip(placed, placed[1:], strict=False):
        if next_start < end:
            return None
    for start, end, new in reversed(placed):
        lines[start:end] = list(new)
    return "".join(lines)


def _locate(lines: list[str], hunk: Hunk) -> int | None:
    """Where the hunk's old lines stand in `lines`: by the old lines with their context, else by the old lines
    alone; None unless exactly one place matches."""
    for before, after in ((hunk.before, hunk.after), (hunk.before, ()), ((), hunk.after), ((), ())):
        if not hunk.old and not before and not after:
            return None  # a pure insertion needs context to know where it goes
        anchor = [*before, *hunk.old, *after]
        found = [index for index in range(len(lines) - len(anchor) + 1) if lines[index:index + len(anchor)] == anchor]
        if len(found) == 1:
            return found[0] + len(before)
        if len(found) > 1:
            return None
    return None


# --------------------------------------------------------------------------------------------- LSP


def column_length(text: str, encoding: str = UTF16) -> int:
    """The length of `text` in the client's position encoding (UTF-16 code units unless negotiated)."""
    if encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def _position(lines: Sequence[str], index: int, encoding: str) -> lsp.Position:
    """The start of line `index`; past the last line of a file without a final newline, the end of that line."""
    if index < len(lines) or not lines or lines[-1].endswith("\n"):
        return lsp.Position(line=index, character=0)
    return lsp.Position(line=len(lines) - 1, character=column_length(lines[-1], encoding))


def replacements(before: str, after: str, encoding: str = UTF16) -> list[tuple[lsp.Range, str]]:
    """The hunks as LSP ranges of `before` and their new text."""
    lines = split_lines(before)
    return [(lsp.Range(start=_position(lines, hunk.start, encoding), end=_position(lines, hunk.end, encoding)),
             "".join(hunk.new)) for hunk in hunks(before, after)]


def text_edits(before: str, after: str, annotation: str | None = None,
               encoding: str = UTF16) -> list[lsp.TextEdit | lsp.AnnotatedTextEdit]:
    edits: list[lsp.TextEdit | lsp.AnnotatedTextEdit] = []
    for edit_range, new_text in replacements(before, after, encoding):
        if annotation is not None:
            edits.append(lsp.AnnotatedTextEdit(range=edit_range, new_text=new_text, annotation_id=annotation))
        else:
            edits.append(lsp.TextEdit(range=edit_range, new_text=new_text))
    return edits


def workspace_edit(files: list[FileEdit], capabilities: lsp.ClientCapabilities | None, label: str,
                   description: str = "", encoding: str = UTF16) -> lsp.WorkspaceEdit:
    """One `WorkspaceEdit`: versioned `documentChanges` (with `CreateFile` for new files) where the client
    supports them, and a confirmation annotation on multi-file edits (VS Code then shows its preview)."""
    support = capabilities.workspace.workspace_edit if capabilities and capabilities.workspace else None
    document_changes = bool(support and support.document_changes)
    can_create = bool(support and support.resource_operations
                      and lsp.ResourceOperationKind.Create in support.resource_operations)
    created = [file.path for file in files if file.before is None]
    if created and not (document_changes and can_create):
        raise DeliveryError(f"your editor cannot create files through an edit ({', '.join(created)}); "
                            "run `plumbline implement` or `plumbline fix --agent` in a terminal instead")
    if not document_changes:
        return lsp.WorkspaceEdit(changes={
            file.uri: [lsp.TextEdit(range=edit_range, new_text=new_text)
                       for edit_range, new_text in replacements(file.before or "", file.after, encoding)]
            for file in files})
    annotate = len(files) > 1 and support is not None and support.change_annotation_support is not None
    annotation = ANNOTATION_ID if annotate else None
    operations: list[lsp.TextDocumentEdit | lsp.CreateFile | lsp.RenameFile | lsp.DeleteFile] = []
    for file in files:
        if file.before is None:
            operations.append(lsp.CreateFile(uri=file.uri, annotation_id=annotation,
                                             options=lsp.CreateFileOptions(overwrite=False, ignore_if_exists=False)))
        identifier = lsp.OptionalVersionedTextDocumentIdentifier(uri=file.uri, version=file.version)
        edits = list(text_edits(file.before or "", file.after, annotation, encoding))
        operations.append(lsp.TextDocumentEdit(text_document=identifier, edits=edits))
    annotations = None
    if annotation is not None:
        annotations = {annotation: lsp.ChangeAnnotation(label=label, needs_confirmation=True,
                                                        description=description or None)}
    return lsp.WorkspaceEdit(document_changes=operations, change_annotations=annotations)


# --------------------------------------------------------------------------------------------- terminal


def unified_diff(changes: list[Change]) -> str:
    parts: list[str] = []
    for change in changes:
        old = split_lines(change.before or "")
        new = split_lines(change.after)
        old_name = f"a/{change.path}" if change.before is not None else "/dev/null"
        for line in difflib.unified_diff(old, new, old_name, f"b/{change.path}"):
            parts.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(parts)
