"""Keystroke-speed analysis of an edited document, exact or not at all.

Two questions decide how much of the engine a keystroke needs:

1. Which top-level statements did the edit touch? Only those are summarised again (`incremental_summary`);
   every other statement keeps its summary objects, so a keystroke in a 3,000-line module costs a few
   milliseconds instead of a full `summarize`. Whenever the answer is not certain (the line count changed, the
   import header or an import was touched, the statement parses differently on its own), the caller summarises
   the whole file instead.
2. Can the new facts change any finding? `ReadTracker` records which parts of an open document's summary the
   last full check actually read (resolve steps read signatures, classes and imports, rarely the body of a
   helper function). When the new facts equal the old ones in everything that check read, the check would
   read the same values, take the same steps and produce the same findings: the previous result stands and
   no re-resolution is needed. Anything else (a record, a comment, a position that was read) runs the check.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node, Range, Tree

from analyzers.facts import FileFacts
from analyzers.model import Span
from analyzers.parsing import parse
from analyzers.pysyntax import Class, Comment, Function, Module, summarize
from lsp_server.documents import TreeEdit

# --------------------------------------------------------------------------------------------- edited region

# Module fields that are not lists of located items, and how a summary of a few statements treats them.
SCALAR_FIELDS = frozenset({"module", "path", "imports", "has_errors", "line_count", "is_package_init",
                           "imports_end"})


def edited_lines(previous: Tree, tree: Tree, edits: Sequence[TreeEdit],
                 changed: Sequence[Range]) -> tuple[int, int] | None:
    """The rows [first, last] of the top-level statements an edit touched, when no edit changed the line count.

    `previous` is the old tree already edited to the new text's coordinates, `changed` its changed ranges
    against `tree`. Both trees' statements count: an edit can split a statement as well as merge two.
    """
    rows = [edit.start_point[0] for edit in edits]
    if not edits or any(edit.old_end_point[0] != row or edit.new_end_point[0] != row
                        for edit, row in zip(edits, rows, strict=True)):
        return None
    first, last = min(rows), max(rows)
    for changed_range in changed:
        first = min(first, changed_range.start_point[0])
        last = max(last, _last_row(changed_range.start_point, changed_range.end_point))
    while True:
        grown = _statement_rows(previous.root_node, first, last)
        grown = _statement_rows(tree.root_node, *grown)
        if grown == (first, last):
            return first, last
        first, last = grown


def _statement_rows(root: Node, first: int, last: int) -> tuple[int, int]:
    """[first, last] grown to whole top-level statements that share a row with it."""
    for child in root.children:
        start = child.start_point[0]
        if start > last:
            break
        end = _last_row(child.start_point, child.end_point)
        if end >= first:
            first, last = min(first, start), max(last, end)
    return first, last


def _last_row(start: Any, end: Any) -> int:
    """The last row a node or range covers (one ending at column 0 stops on the row before)."""
    return end[0] - 1 if end[1] == 0 and end[0] > start[0] else end[0]


# --------------------------------------------------------------------------------------------- incremental summary


def incremental_summary(previous: Module, data: bytes, tree: Tree, old_data: bytes,
                        rows: tuple[int, int]) -> Module | None:
    """The summary of `data` (parsed as `tree`), re-using `previous` outside `rows`; None when unsure.

    Rows keep their numbers (the caller asks only when no edit changed the line count), so the summaries of
    untouched statements stay valid as they are, positions included. The touched statements are parsed and
    summarised on their own, preceded by blank lines so that their positions come out right, and used only when
    they parsed exactly as they do in the whole file. `old_data` is the text `previous` summarises: an import
    removed from it changes the import table as much as one added.

    Every list field of `Module` holds items of one statement each (located by their span or line); a field of
    another kind makes this give up rather than guess.
    """
    first, last = rows
    if previous.imports_end <= 0 or first < previous.imports_end:
        return None  # the import header and the docstring are summarised with the whole file
    start, end = _row_offset(data, first), _row_offset(data, last + 1)
    text = data[start:end]
    # Every edit lies in these rows, so the old text of the same rows is the old data's bytes from the same
    # start, shorter or longer by what the edits changed.
    old_text = old_data[start : end - (len(data) - len(old_data))]
    if b"import" in text or b"import" in old_text:
        return None  # (or a word that merely contains it: summarised whole, which is never wrong)
    region = _statements_on(tree.root_node, first, last)
    part_data = b"\n" * first + text
    part_tree = parse("python", part_data)
    if [_shape(node) for node in part_tree.root_node.children] != [_shape(node) for node in region]:
        return None
    part = summarize(part_data, previous.module, previous.path, tree=part_tree)
    return _assemble(previous, part, rows, tree)


def _statements_on(root: Node, first: int, last: int) -> list[Node]:
    return [child for child in root.children if first <= child.start_point[0] <= last]


def _row_offset(data: bytes, row: int) -> int:
    """The byte offset where `row` starts (the end of the data past the last row)."""
    if row <= 0:
        return 0
    lines = data.split(b"\n", row)
    return len(data) if len(lines) <= row else len(data) - len(lines[-1])


def _shape(node: Node) -> tuple[Any, ...]:
    """A statement's syntax tree as tree-sitter prints it (named nodes, fields, ERROR and MISSING nodes), and its
    extent: equal for two parses of the same bytes only when they parsed them the same way."""
    return (str(node), node.start_point, node.end_point, node.child_count)


def _assemble(previous: Module, part: Module, rows: tuple[int, int], tree: Tree) -> Module | None:
    first, last = rows
    values: dict[str, Any] = {}
    for module_field in dataclasses.fields(Module):
        name = module_field.name
        old = getattr(previous, name)
        if name in SCALAR_FIELDS:
            values[name] = old
            continue
        if not isinstance(old, list):
            return None  # a field this code does not know: summarise the whole file
        before: list[Any] = []
        after: list[Any] = []
        for item in old:
            row = _row_of(item)
            if row is None:
                return None
            if row < first:
                before.append(item)
            elif row > last:
                after.append(item)
        values[name] = before + getattr(part, name) + after
    values["has_errors"] = tree.root_node.has_error
    values["line_count"] = tree.root_node.end_point[0] + 1
    return Module(**values)


def _row_of(item: Any) -> int | None:
    """The first row of a summary item (a class, function, assignment, call, comment, ...)."""
    span = getattr(item, "span", None)
    if isinstance(span, Span):
        return span.start.line
    line = getattr(item, "line", None)
    if isinstance(line, int):
        return line
    if isinstance(item, tuple):
        for part in item:
            if isinstance(part, Span):
                return part.start.line
    return None


# --------------------------------------------------------------------------------------------- what a check reads

_READS: set[tuple[int, str]] = set()  # (id of a watched object, attribute) read while watching
_READS_LOCK = threading.Lock()
_ACTIVE = [False]  # a watched check is running (a copy made meanwhile, `dataclasses.replace`, stays watched)


def _watching(kind: type) -> type:
    """A subclass of a summary type that notes every attribute read. Same slots, so an object's class can be
    switched to it and back without copying."""

    def __getattribute__(self: Any, name: str) -> Any:
        if _ACTIVE[0]:
            _READS.add((id(self), name))
        return object.__getattribute__(self, name)

    return type(f"Watched{kind.__name__}", (kind,), {"__slots__": (), "__getattribute__": __getattribute__})


_WATCHED = {Module: _watching(Module), Function: _watching(Function), Class: _watching(Class)}
_UNWATCHED = {watched: kind for kind, watched in _WATCHED.items()}


@dataclass(slots=True)
class Reads:
    """What a full check read of one file's summary: fields per summary object, by object identity."""

    module: Module
    fields: dict[int, frozenset[str]] = field(default_factory=dict)


def _objects(module: Module) -> Iterator[Any]:
    yield module
    yield from module.functions
    stack = list(module.classes)
    while stack:
        cls = stack.pop()
        yield cls
        stack.extend(cls.classes)


class ReadTracker:
    """Watches the summaries of open documents while a full check runs, and answers whether new facts of one
    of them could change what that check computed."""

    def __init__(self) -> None:
        self.reads: dict[str, Reads] = {}

    def check(self, files: dict[str, FileFacts], paths: Sequence[str], run: Any) -> Any:
        """`run()` (a full check) with the summaries of `paths` watched; what it read is kept per path."""
        watched = {path: files[path].python for path in paths if path in files and files[path].python is not None}
        switched: list[Any] = []
        with _READS_LOCK:  # one watched check at a time: the read log is shared
            _READS.clear()
            try:
                for module in watched.values():
                    for obj in _objects(module):  # type: ignore[arg-type]
                        kind = _WATCHED.get(type(obj))
                        if kind is not None:
                            obj.__class__ = kind
                            switched.append(obj)
                _ACTIVE[0] = True
                result = run()
            finally:
                _ACTIVE[0] = False
                for obj in switched:
                    obj.__class__ = _UNWATCHED[type(obj)]
            log = set(_READS)
            _READS.clear()
        by_object: dict[int, set[str]] = {}
        for identity, name in log:
            by_object.setdefault(identity, set()).add(name)
        previous, self.reads = self.reads, {}
        for path, module in watched.items():
            assert module is not None
            fields = {id(obj): frozenset(by_object.get(id(obj), ())) for obj in _objects(module)}
            before = previous.get(path)
            if before is not None and before.module is module:
                # The same summary as last time: a resolve step reused from then (`ModelBuilder.reusable`) read
                # it then and not now, and must still count.
                fields = {key: read | before.fields.get(key, frozenset()) for key, read in fields.items()}
            self.reads[path] = Reads(module, fields)
        return result

    def watches(self, path: str, facts: FileFacts) -> bool:
        """The last check read `facts` (of an open document) under watch."""
        reads = self.reads.get(path)
        return reads is not None and facts.python is reads.module

    def unchanged(self, path: str, old: FileFacts | None, new: FileFacts) -> bool:
        """True when a check over `new` would read exactly what it read of `old`; then the reads carry over."""
        reads = self.reads.get(path)
        if reads is None or old is None or old.python is not reads.module or new.python is None:
            return False
        if not _same_facts(old, new):
            return False
        pairs = _pairs(old.python, new.python)
        if pairs is None:
            return False
        partner = {id(before): after for before, after in pairs}
        for before, after in pairs:
            if before is after:
                continue  # a statement the edit did not touch keeps its summary objects
            for name in reads.fields.get(id(before), ()):
                if not _same_field(before, after, name, partner):
                    return False
        self.reads[path] = Reads(new.python, {id(after): reads.fields.get(id(before), frozenset())
                                              for before, after in pairs})
        return True


def _same_facts(old: FileFacts, new: FileFacts) -> bool:
    """Everything of the file's facts but the summary (compared by reads), its digest and its notes (which only
    the log shows) is equal. Of the comments, the check reads only suppressions (extractors read comments
    through the summary, and their records are compared whole)."""
    for facts_field in dataclasses.fields(FileFacts):
        name = facts_field.name
        if name in ("python", "digest", "notes"):
            continue
        if name == "comments":
            if _suppressions(old.comments) != _suppressions(new.comments):
                return False
        elif getattr(old, name) != getattr(new, name):
            return False
    return True


def _suppressions(comments: list[Comment]) -> list[Comment]:
    return [comment for comment in comments if "plumbline" in comment.text]


def _pairs(old: Module, new: Module) -> list[tuple[Any, Any]] | None:
    """The summary objects of `old` and `new` that stand for each other, or None when the shapes differ."""
    if len(old.functions) != len(new.functions):
        return None
    pairs: list[tuple[Any, Any]] = [(old, new), *zip(old.functions, new.functions, strict=True)]
    stack = [(old.classes, new.classes)]
    while stack:
        before, after = stack.pop()
        if len(before) != len(after):
            return None
        for old_class, new_class in zip(before, after, strict=True):
            pairs.append((old_class, new_class))
            stack.append((old_class.classes, new_class.classes))
    return pairs


def _same_field(before: Any, after: Any, name: str, partner: dict[int, Any]) -> bool:
    """The field `name` of `before` (read by the last check) equals that of `after`; functions and classes held
    in it are matched by their partners, and compared by what was read of them on their own."""
    if name not in _field_names(type(before)):
        return True  # a method (`resolve`, `nested`): what it reads is noted field by field
    old_value = getattr(before, name)
    new_value = getattr(after, name)
    if isinstance(before, Module) and name in ("functions", "classes"):
        return True  # the shapes matched; each function and class is compared by what was read of it
    if isinstance(before, Class) and name in ("methods", "classes"):
        return len(old_value) == len(new_value) and all(
            partner.get(id(item)) is other for item, other in zip(old_value, new_value, strict=True))
    return bool(old_value == new_value)


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(kind: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = frozenset(item.name for item in dataclasses.fields(kind))
    return names
