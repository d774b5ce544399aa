"""Open documents: their text as the client edits it, and the tree edits an incremental re-parse needs.

The text lives on the server's event loop; the trees live on the analysis thread (`Reparser`). Each content
change is turned into a tree-sitter `InputEdit` here, against the text before that change, and queued; the
analysis thread applies the queued edits to the old tree and re-parses with it, so a keystroke in a large file
costs a few milliseconds of parsing instead of a full parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from tree_sitter import Parser, Range, Tree

from analyzers.discovery import MAX_FILE_BYTES
from analyzers.parsing import language
from lsp_server.convert import from_lsp_column

_NEWLINE = re.compile("\n")


@dataclass(frozen=True, slots=True)
class TreeEdit:
    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


@dataclass(slots=True)
class OpenDocument:
    uri: str
    path: Path
    version: int
    text: str
    # Edits since the analysis thread last parsed this document; None when it needs a full parse.
    pending: list[TreeEdit] | None = None
    _line_starts: list[int] | None = field(default=None, repr=False)

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        """Apply one content change (incremental or whole text) and queue its tree edit."""
        if not isinstance(change, types.TextDocumentContentChangePartial):
            self.text = change.text
            self.pending = None
            self._line_starts = None
            return
        start_index, start_point = self._locate(change.range.start, encoding)
        end_index, end_point = self._locate(change.range.end, encoding)
        if end_index < start_index:
            start_index, end_index, start_point, end_point = end_index, start_index, end_point, start_point
        start_byte = _byte_length(self.text, start_index)
        old_end_byte = start_byte + len(self.text[start_index:end_index].encode("utf-8"))
        inserted = change.text.encode("utf-8")
        self.text = self.text[:start_index] + change.text + self.text[end_index:]
        self._line_starts = None
        if self.pending is not None:
            self.pending.append(TreeEdit(start_byte, old_end_byte, start_byte + len(inserted), start_point,
                                         end_point, _end_point(start_point, inserted)))

    def _locate(self, position: types.Position, encoding: str) -> tuple[int, tuple[int, int]]:
        """The string index and tree-sitter point (row, byte column) of an LSP position, clamped to the text."""
        starts = self.line_starts()
        if position.line >= len(starts):
            last = len(starts) - 1
            return len(self.text), (last, len(self.text[starts[last]:].encode("utf-8")))
        start = starts[position.line]
        end = starts[position.line + 1] - 1 if position.line + 1 < len(starts) else len(self.text)
        line = self.text[start:end]
        column = from_lsp_column(line, position.character, encoding)
        byte_column = column if line.isascii() else len(line[:column].encode("utf-8"))
        return start + column, (position.line, byte_column)

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0, *(match.end() for match in _NEWLINE.finditer(self.text))]
        return self._line_starts

    def take_snapshot(self) -> tuple[bytes, list[TreeEdit] | None]:
        """The bytes to analyse and the edits since the last snapshot (None: parse from scratch)."""
        edits = self.pending
        self.pending = []
        return self.text.encode("utf-8"), edits


def _byte_length(text: str, index: int) -> int:
    prefix = text[:index]
    return index if prefix.isascii() else len(prefix.encode("utf-8"))


def _end_point(start: tuple[int, int], inserted: bytes) -> tuple[int, int]:
    newlines = inserted.count(b"\n")
    if newlines == 0:
        return (start[0], start[1] + len(inserted))
    return (start[0] + newlines, len(inserted) - inserted.rfind(b"\n") - 1)


@dataclass(slots=True)
class Reparsed:
    """A document's new tree, and what the incremental summary needs to know about how it came about."""

    tree: Tree
    # The previous tree, edited to the new text's coordinates (None after a full parse), and the edits.
    previous: Tree | None = None
    edits: list[TreeEdit] = field(default_factory=list)

    def changed_ranges(self) -> list[Range]:
        return list(self.previous.changed_ranges(self.tree)) if self.previous is not None else []


class Reparser:
    """Python trees of open documents, kept on the analysis thread and re-parsed incrementally."""

    def __init__(self) -> None:
        self.trees: dict[str, Tree] = {}
        self._parser = Parser(language("python"))

    def parse(self, uri: str, data: bytes, edits: list[TreeEdit] | None) -> Tree | None:
        """The tree of `data`, re-using the previous tree of `uri` when `edits` lead from it to `data`."""
        reparsed = self.reparse(uri, data, edits)
        return reparsed.tree if reparsed is not None else None

    def reparse(self, uri: str, data: bytes, edits: list[TreeEdit] | None) -> Reparsed | None:
        """Like `parse`, keeping the previous tree and the edits (for the incremental summary)."""
        if len(data) > MAX_FILE_BYTES:
            self.trees.pop(uri, None)
            return None
        old = self.trees.get(uri) if edits is not None else None
        if old is not None and edits:
            for edit in edits:
                old.edit(start_byte=edit.start_byte, old_end_byte=edit.old_end_byte, new_end_byte=edit.new_end_byte,
                         start_point=edit.start_point, old_end_point=edit.old_end_point,
                         new_end_point=edit.new_end_point)
        tree = self._parser.parse(data, old) if old is not None else self._parser.parse(data)
        self.trees[uri] = tree
        if old is None or not edits:
            return Reparsed(tree)
        return Reparsed(tree, old, list(edits))

    def forget(self, uri: str) -> None:
        self.trees.pop(uri, None)
