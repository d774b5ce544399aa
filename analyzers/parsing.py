"""tree-sitter languages, parsers and compiled queries, created once per process."""

from __future__ import annotations

from functools import cache

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from analyzers.model import Position, Span

_new_tuple = tuple.__new__
LANGUAGE_BY_SUFFIX = {".py": "python", ".pyi": "python", ".sql": "sql"}


@cache
def language(name: str) -> Language:
    if name == "python":
        import tree_sitter_python

        return Language(tree_sitter_python.language())
    if name == "sql":
        import tree_sitter_sql

        return Language(tree_sitter_sql.language())
    if name == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    if name == "typescript":
        import tree_sitter_typescript

        return Language(tree_sitter_typescript.language_typescript())
    if name == "go":
        import tree_sitter_go

        return Language(tree_sitter_go.language())
    raise ValueError(f"no tree-sitter grammar for {name!r}")


@cache
def parser(name: str) -> Parser:
    return Parser(language(name))


@cache
def query(language_name: str, source: str) -> Query:
    return Query(language(language_name), source)


def parse(language_name: str, source: bytes, old_tree: Tree | None = None) -> Tree:
    if old_tree is not None:
        return parser(language_name).parse(source, old_tree)
    return parser(language_name).parse(source)


def captures(language_name: str, query_source: str, node: Node) -> dict[str, list[Node]]:
    return QueryCursor(query(language_name, query_source)).captures(node)


class SourceText:
    """The bytes of one file with byte → character column conversion for the nodes we keep."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._line_starts: list[int] | None = None
        self.ascii = data.isascii()

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.data.find
            index = find(b"\n")
            while index >= 0:
                starts.append(index + 1)
                index = find(b"\n", index + 1)
            self._line_starts = starts
        return self._line_starts

    def position(self, point: tuple[int, int]) -> Position:
        row, byte_column = point
        if self.ascii or byte_column == 0:
            return Position(row, byte_column)
        starts = self.line_starts()
        start = starts[row] if row < len(starts) else len(self.data)
        prefix = self.data[start : start + byte_column]
        return Position(row, len(prefix.decode("utf-8", errors="replace")))

    def span(self, node: Node) -> Span:
        if self.ascii:  # byte columns are character columns; tuple.__new__ skips NamedTuple's slower __new__
            return _new_tuple(Span, (_new_tuple(Position, node.start_point), _new_tuple(Position, node.end_point)))
        return Span(self.position(node.start_point), self.position(node.end_point))

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def line_text(self, row: int) -> str:
        starts = self.line_starts()
        if row >= len(starts):
            return ""
        end = self.data.find(b"\n", starts[row])
        return self.data[starts[row] : end if end >= 0 else len(self.data)].decode("utf-8", errors="replace")


def has_error(tree: Tree) -> bool:
    return tree.root_node.has_error
