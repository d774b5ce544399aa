"""Open documents: LSP content changes → text and tree-sitter edits; the incremental tree equals a fresh parse."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from tree_sitter import Node, Parser

from analyzers.model import Position
from analyzers.parsing import language
from lsp_server.convert import Lines, from_lsp_column, to_lsp_column
from lsp_server.documents import OpenDocument, Reparser

UTF16 = types.PositionEncodingKind.Utf16
SOURCE = '''class Order(Base):  # 🛒 orders
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    note = Column(String, default="café")


def total(order):
    return sum(line.price for line in order.lines)
'''


def _partial(start: tuple[int, int], end: tuple[int, int], text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])), text=text)


def _shape(node: Node) -> tuple:
    return (node.type, node.start_byte, node.end_byte, tuple(_shape(child) for child in node.children))


def test_an_edit_after_an_emoji_counts_utf16_units() -> None:
    document = OpenDocument("file:///x.py", Path("x.py"), 1, SOURCE)
    document.take_snapshot()  # from here on, changes queue tree edits
    column = SOURCE.split("\n")[0].index("orders") + 1  # the emoji before it is two UTF-16 units
    document.apply(_partial((0, column), (0, column + 6), "sales"), UTF16)
    assert document.text.split("\n")[0].endswith("# 🛒 sales")
    (edit,) = document.pending or []
    assert edit.new_end_byte - edit.start_byte == len(b"sales")
    assert edit.old_end_byte - edit.start_byte == len(b"orders")


def test_whole_text_change_asks_for_a_full_parse() -> None:
    document = OpenDocument("file:///x.py", Path("x.py"), 1, SOURCE)
    document.take_snapshot()
    document.apply(types.TextDocumentContentChangeWholeDocument(text="x = 1\n"), UTF16)
    data, edits = document.take_snapshot()
    assert data == b"x = 1\n" and edits is None


def test_positions_past_the_end_are_clamped() -> None:
    document = OpenDocument("file:///x.py", Path("x.py"), 1, "a = 1\n")
    document.take_snapshot()
    document.apply(_partial((7, 3), (9, 0), "b = 2\n"), UTF16)
    assert document.text == "a = 1\nb = 2\n"


def test_columns_in_each_encoding() -> None:
    line = "x = '🛒é'  # ok"
    emoji = line.index("🛒")
    assert to_lsp_column(line, emoji + 1, UTF16) == emoji + 2
    assert to_lsp_column(line, emoji + 1, types.PositionEncodingKind.Utf8) == emoji + 4
    assert to_lsp_column(line, emoji + 1, types.PositionEncodingKind.Utf32) == emoji + 1
    for column in range(len(line) + 1):
        for encoding in (UTF16, types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf32):
            assert from_lsp_column(line, to_lsp_column(line, column, encoding), encoding) == column
    assert Lines("a\nb🛒c").to_lsp(Position(1, 2), UTF16).character == 3


_texts = st.text(alphabet=st.sampled_from(list("abc xyz():=\n\t'\"#é🛒_0123")), max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 40), st.integers(0, 12), st.integers(0, 40), _texts),
                min_size=1, max_size=8),
       st.booleans())
def test_incremental_reparse_matches_a_fresh_parse(changes: list[tuple[int, int, int, int, str]],
                                                    snapshot_between: bool) -> None:
    document = OpenDocument("file:///x.py", Path("x.py"), 1, SOURCE)
    reparser = Reparser()
    data, edits = document.take_snapshot()
    reparser.parse(document.uri, data, edits)
    expected = SOURCE
    for start_line, start_char, end_line, end_char, text in changes:
        start, end = sorted([(start_line, start_char), (end_line, end_char)])
        expected = _apply_reference(expected, start, end, text)
        document.apply(_partial(start, end, text), UTF16)
        assert document.text == expected
        if snapshot_between:
            data, edits = document.take_snapshot()
            reparser.parse(document.uri, data, edits)
    data, edits = document.take_snapshot()
    tree = reparser.parse(document.uri, data, edits)
    fresh = Parser(language("python")).parse(expected.encode("utf-8"))
    assert tree is not None and _shape(tree.root_node) == _shape(fresh.root_node)


def _apply_reference(text: str, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    """A slow, obviously right application of one LSP change (UTF-16 columns, clamped like editors do)."""
    lines = text.split("\n")

    def index(position: tuple[int, int]) -> int:
        line, character = position
        if line >= len(lines):
            return len(text)
        offset = sum(len(item) + 1 for item in lines[:line])
        units = 0
        for char in lines[line]:
            if units >= character:
                break
            units += 2 if ord(char) > 0xFFFF else 1
            offset += 1
        return offset

    return text[: index(start)] + new + text[index(end):]
