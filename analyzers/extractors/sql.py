"""SQL migration files: CREATE TABLE / CREATE INDEX / ALTER TABLE / DROP / RENAME, replayed in file order.

Each `.sql` file becomes one `SqlScript` record: the schema operations (`SchemaOp`) its statements perform, in
order. `resolve` replays every script in migration order (Flyway versions, then natural name order: V2 before
V10, 0002 before 0010) into the effective schema and registers its tables.

Parsing uses the tree-sitter SQL grammar one statement at a time (so a statement the grammar does not
understand cannot swallow the next ones). The grammar trips on common DDL clauses that do not matter here
(`CONSTRAINT name` before a table constraint, `DEFERRABLE`, `COLLATE`, `CHECK (...)`, `REFERENCES t` without a
column list, ...): when a statement has ERROR nodes, those clauses are blanked with spaces (positions stay) and
it is parsed again, keeping what they said as hints. A statement that still has errors is skipped with a note:
never guess a schema.

`SchemaOp` and the replay helpers are shared with the Alembic extractor (its `op.execute("...")` strings are
SQL, and its operations replay the same way).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tree_sitter import Node

from analyzers.facts import SourceFile
from analyzers.model import Column, ForeignKey, Index, Location, Position, Span, Table, TableDeclaration, copied
from analyzers.parsing import SourceText, parse
from analyzers.resolve import ModelBuilder, SchemaHistory, merge_tables

# --------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class SchemaOp:
    """One schema change, from a SQL statement or an Alembic operation.

    action: create_table | drop_table | rename_table | add_column | drop_column | rename_column |
    alter_column_type | create_index | drop_index | add_foreign_key | drop_constraint | add_primary_key.
    """

    action: str
    table: str
    location: Location | None = None
    created: Table | None = None  # create_table
    column: Column | None = None  # add_column
    foreign_key: ForeignKey | None = None  # add_column (inline REFERENCES) / add_foreign_key
    index: Index | None = None  # create_index
    name: str | None = None  # the column / index / constraint the op names
    new_name: str | None = None  # rename_table / rename_column
    columns: tuple[str, ...] = ()  # add_primary_key
    if_not_exists: bool = False


@dataclass(slots=True)
class SqlScript:
    path: str
    ops: list[SchemaOp] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- extract

# Files that undo migrations: their statements are not part of the schema.
_DOWN_FILE = re.compile(r"(?i)(^|[._-])(down|undo|rollback)\.sql$|^U\d+(?:[._]\d+)*__")
_DDL_HINT = re.compile(rb"(?i)\b(?:create|alter|drop|rename)\b")


def extract(source: SourceFile) -> list[SqlScript]:
    if source.language != "sql" or _DOWN_FILE.search(source.name) or not _DDL_HINT.search(source.data):
        return []
    ops, notes = ops_from_sql(source.data, source.path)
    if not ops and not notes:
        return []
    return [SqlScript(source.path, ops, notes)]


def ops_from_sql(data: bytes, path: str) -> tuple[list[SchemaOp], list[str]]:
    """The schema operations of a SQL text, in order, and notes about statements that were skipped."""
    reader = _Reader(data, path)
    ops: list[SchemaOp] = []
    for statement in split_statements(data):
        ops.extend(reader.statement(statement))
    return ops, reader.notes


# --------------------------------------------------------------------------------------------- statements

_LEXEME = re.compile(
    rb"--[^\n]*"
    rb"|/\*.*?(?:\*/|\Z)"
    rb"|'(?:[^'\\]|\\.|'')*(?:'|\Z)"
    rb'|"(?:[^"]|"")*(?:"|\Z)'
    rb"|`[^`]*(?:`|\Z)"
    rb"|\$\$.*?(?:\$\$|\Z)"
    rb"|\$(?P<tag>[A-Za-z_]\w*)\$.*?(?:\$(?P=tag)\$|\Z)"
    rb"|;",
    re.S,
)
# dbmate (`-- migrate:down`) and goose (`-- +goose Down`) keep the down migration in the same file.
_SECTION = re.compile(rb"(?i)^--\s*(?:migrate:|\+goose\s+)(up|down)\b")


@dataclass(slots=True)
class Statement:
    start: int  # offset of the statement's first code byte
    end: int  # offset just after its last code byte (before the `;`)
    stop: int  # offset after the `;` (or the end of the text)
    code: bytes  # the whole text with comments blanked
    masked: bytes  # ... and string literal contents blanked too (for keyword patterns)

    @property
    def text(self) -> bytes:
        return self.code[self.start : self.end]

    @property
    def masked_text(self) -> bytes:
        return self.masked[self.start : self.end]


def _blank(buffer: bytearray, start: int, end: int) -> None:
    """Spaces over [start, end), newlines kept so lines and columns do not move."""
    for index in range(start, end):
        if buffer[index] not in (0x0A, 0x0D):
            buffer[index] = 0x20


def split_statements(data: bytes) -> list[Statement]:
    """Statements separated by top-level `;` (not inside strings, quoted names, comments, dollar quotes)."""
    code = bytearray(data)
    masked = bytearray(data)
    if data.startswith(b"\xef\xbb\xbf"):  # a byte order mark is not part of the first statement
        _blank(code, 0, 3)
        _blank(masked, 0, 3)
    cuts: list[int] = []
    down_from: int | None = None
    for match in _LEXEME.finditer(data):
        token = match.group(0)
        start, end = match.span()
        if token == b";":
            if down_from is None:
                cuts.append(start)
        elif token.startswith((b"--", b"/*")):
            section = _SECTION.match(token)
            if section is not None:
                if section.group(1).lower() == b"down" and down_from is None:
                    down_from = start
                elif section.group(1).lower() == b"up" and down_from is not None:
                    _blank(code, down_from, start)
                    _blank(masked, down_from, start)
                    down_from = None
            _blank(code, start, end)
            _blank(masked, start, end)
        elif token[:1] in (b"'", b"$"):
            _blank(masked, start + 1, max(start + 1, end - 1))
    if down_from is not None:
        _blank(code, down_from, len(data))
        _blank(masked, down_from, len(data))
        cuts.append(down_from)
    frozen_code, frozen_masked = bytes(code), bytes(masked)
    statements: list[Statement] = []
    begin = 0
    for cut in [*cuts, len(data)]:
        piece = frozen_code[begin:cut]
        stripped = piece.strip()
        if stripped:
            first = begin + (len(piece) - len(piece.lstrip()))
            last = begin + len(piece.rstrip())
            statements.append(Statement(first, last, min(len(data), cut + 1), frozen_code, frozen_masked))
        begin = cut + 1
    return statements


# --------------------------------------------------------------------------------------------- patterns

_IDENT = rb'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)'
_QNAME = rb"(?>" + _IDENT + rb"(?:\s*\.\s*" + _IDENT + rb")*)"
_ACTION = rb"(?:CASCADE|RESTRICT|SET\s+NULL|SET\s+DEFAULT|NO\s+ACTION)"
_IDENT_TEXT = re.compile(_IDENT.decode())
_MULTI_WORD_TYPE = (rb"(?i:character\s+varying|double\s+precision|bit\s+varying|"
                    rb"(?:timestamp|time)\s+with(?:out)?\s+time\s+zone)")

_CREATE_TABLE = re.compile(
    rb"(?is)CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?P<temp>TEMP(?:ORARY)?\s+)?(?:UNLOGGED\s+)?"
    rb"TABLE\b")
_CREATE_INDEX = re.compile(rb"(?is)CREATE\s+(?:UNIQUE\s+)?(?:(?:CLUSTERED|NONCLUSTERED)\s+)?INDEX\b")
_ALTER_TABLE = re.compile(rb"(?is)ALTER\s+TABLE\b")
_DROP_TABLE = re.compile(rb"(?is)DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<names>.*?)\s*(?:\b(?:CASCADE|RESTRICT)\s*)?$")
_DROP_INDEX = re.compile(
    rb"(?is)DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?P<names>.*?)"
    rb"(?:\s+ON\s+(?P<table>" + _QNAME + rb"))?\s*(?:\b(?:CASCADE|RESTRICT)\s*)?$")
_RENAME_TABLE = re.compile(rb"(?is)RENAME\s+TABLE\s+(?P<pairs>.*)$")
_RENAME_PAIR = re.compile(rb"(?is)\s*(?P<old>" + _QNAME + rb")\s+TO\s+(?P<new>" + _QNAME + rb")\s*$")

# Clauses the grammar does not parse and the model does not need; blanked on a second parse attempt.
_CHECK = re.compile(rb"(?i)\bCHECK\s*\(")
_CONSTRAINT_NAME = re.compile(
    rb"(?i)\bCONSTRAINT\s+(?P<name>" + _IDENT + rb")\s+(?=(?:FOREIGN|UNIQUE|PRIMARY|EXCLUDE|REFERENCES)\b)")
_BARE_REFERENCES = re.compile(
    rb"(?i)\bREFERENCES\s+(?P<target>" + _QNAME + rb")(?!\s*\()(?P<actions>(?:\s+ON\s+(?:DELETE|UPDATE)\s+"
    + _ACTION + rb")*)")
_NOISE = re.compile(
    rb"(?i)\b(?:NOT\s+)?DEFERRABLE\b|\bINITIALLY\s+(?:DEFERRED|IMMEDIATE)\b|\bCOLLATE\s+" + _QNAME
    + rb"|\bGENERATED\s+(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY(?:\s*\([^()]*\))?"
    + rb"|\bON\s+UPDATE\s+" + _ACTION + rb"|\bMATCH\s+(?:FULL|PARTIAL|SIMPLE)\b|\bWITHOUT\s+ROWID\b"
    + rb"|\bUSING\s+INDEX\s+TABLESPACE\s+" + _QNAME + rb"|\bON\s+CONFLICT\s+(?:ROLLBACK|ABORT|FAIL|IGNORE|REPLACE)\b"
    + rb"|::\s*(?:" + _MULTI_WORD_TYPE + rb"|" + _QNAME + rb")(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\s*\[\s*\])*")
_NOT_NULL = re.compile(rb"(?i)(?P<is>\bIS\s+)?(?P<not>\bNOT)\s+NULL\b")
_ON_DELETE = re.compile(rb"(?i)\bON\s+DELETE\s+(" + _ACTION + rb")")
_ON_UPDATE = re.compile(rb"(?i)\bON\s+UPDATE\s+(" + _ACTION + rb")")
_NOW = re.compile(
    r"(?i)\b(?:now|current_timestamp|localtimestamp|getdate|getutcdate|sysdate|sysdatetime|clock_timestamp|"
    r"statement_timestamp|transaction_timestamp|utc_timestamp)\b|datetime\s*\(\s*'now'")
_STOP_WORDS = frozenset({"NOT", "NULL", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK", "ON", "CONSTRAINT",
                         "AUTO_INCREMENT", "AUTOINCREMENT", "COMMENT", "DEFAULT", "KEY"})


def unquote(name: str) -> str:
    """A SQL identifier as the database stores it: quotes removed, unquoted names folded to lower case."""
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"`":
        return name[1:-1].replace(name[0] * 2, name[0])
    if len(name) >= 2 and name[0] == "[" and name[-1] == "]":
        return name[1:-1]
    return name.lower()


def last_part(qualified: str) -> str:
    """`public.orders` → `orders` (quoted parts kept whole)."""
    parts = [match.group(0) for match in _IDENT_TEXT.finditer(qualified)]
    return unquote(parts[-1]) if parts else unquote(qualified)


def _action(pattern: re.Pattern[bytes], text: bytes) -> str | None:
    match = pattern.search(text)
    return " ".join(match.group(1).decode().upper().split()) if match else None


def _balanced_end(text: bytes, open_at: int) -> int | None:
    """The offset after the parenthesis closing the one at `open_at` (strings are already blanked)."""
    depth = 0
    for index in range(open_at, len(text)):
        char = text[index]
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return index + 1
    return None


# --------------------------------------------------------------------------------------------- reading


@dataclass(slots=True)
class _Hint:
    offset: int  # absolute
    kind: str  # "constraint" (a CONSTRAINT name) | "references" (a target without a column list)
    value: str
    actions: bytes = b""


class _Reader:
    """Turns the statements of one text into schema operations."""

    def __init__(self, data: bytes, path: str) -> None:
        self.path = path
        self.source = SourceText(data)
        self.starts = self.source.line_starts()
        self.notes: list[str] = []

    # ---- positions

    def position(self, offset: int) -> Position:
        row = bisect.bisect_right(self.starts, offset) - 1
        return self.source.position((row, offset - self.starts[row]))

    def location(self, start: int, end: int) -> Location:
        return Location(self.path, Span(self.position(start), self.position(end)))

    # ---- statements

    def statement(self, statement: Statement) -> list[SchemaOp]:
        head = statement.masked_text.lstrip()
        try:
            if _CREATE_TABLE.match(head):
                return self.create_table(statement)
            if _CREATE_INDEX.match(head):
                return self.create_index(statement)
            if _ALTER_TABLE.match(head):
                return self.alter_table(statement)
            if head[:4].upper() == b"DROP":
                return self.drop(statement)
            if _RENAME_TABLE.match(head):
                return self.rename_table(statement)
        except RecursionError:
            self.skip(statement, "nested too deeply")
        return []

    def skip(self, statement: Statement, why: str) -> None:
        line = self.position(statement.start).line + 1
        self.notes.append(f"{self.path}:{line}: statement skipped ({why})")

    def parsed(self, statement: Statement, kind: str) -> tuple[_Tree, list[_Hint]] | None:
        """The statement's tree (as is, else with the grammar's blind spots blanked), or None when it has
        errors either way."""
        text = statement.text
        tree = _Tree(parse("sql", text), text, statement.start, statement.masked_text)
        if not tree.root.has_error and tree.find(kind) is not None:
            return tree, []
        blanked, hints = _blank_noise(statement)
        tree = _Tree(parse("sql", blanked), blanked, statement.start, statement.masked_text)
        if tree.root.has_error or tree.find(kind) is None:
            self.skip(statement, "the SQL grammar does not understand it")
            return None
        return tree, hints

    # ---- CREATE TABLE

    def create_table(self, statement: Statement) -> list[SchemaOp]:
        header = _CREATE_TABLE.match(statement.masked_text.lstrip())
        if header is not None and header.group("temp"):
            return []  # temporary tables are not schema
        result = self.parsed(statement, "create_table")
        if result is None:
            return []
        tree, hints = result
        node = tree.find("create_table")
        assert node is not None
        name_node = _child_of_type(node, "object_reference")
        definitions = _child_of_type(node, "column_definitions")
        if name_node is None or definitions is None:
            return []  # CREATE TABLE ... AS SELECT / LIKE: the columns are not written here
        name = last_part(tree.text(name_node))
        table = Table(name=name)
        table.declarations.append(self.declaration(statement, tree.end(name_node)))
        parts = _parts(definitions)
        for part in _with_hints(tree, parts, hints, tree.end(definitions)):
            if part.node.type == "column_definition":
                self.table_column(tree, part, table)
            else:
                self.table_constraint(tree, part, table)
        if_not_exists = bool(re.match(rb"(?is).*?\bTABLE\s+IF\s+NOT\s+EXISTS\b", statement.masked_text[:200]))
        return [SchemaOp("create_table", name, table.declarations[0].location, created=table,
                         if_not_exists=if_not_exists)]

    def declaration(self, statement: Statement, name_end: int) -> TableDeclaration:
        data = self.source.data
        next_line = data.find(b"\n", statement.stop - 1 if statement.stop else 0)
        if next_line >= 0:  # the start of the line after the statement
            after, indent = Position(self.position(next_line).line + 1, 0), ""
        else:  # the statement ends the file without a newline: add one first
            after, indent = self.position(len(data)), "\n"
        return TableDeclaration(
            kind="sql",
            framework="sql",
            location=self.location(statement.start, name_end),
            after_anchor=Location(self.path, Span(after, after)),
            after_indent=indent,
            idiom={"style": "sql"},
        )

    def table_column(self, tree: _Tree, part: _Part, table: Table) -> None:
        column, foreign_key = self.column(tree, part)
        if column is None:
            return
        table.columns[column.name] = column
        if column.primary_key and column.name not in table.primary_key:
            table.primary_key = (*table.primary_key, column.name)
        if foreign_key is not None:
            table.foreign_keys.append(foreign_key)

    def column(self, tree: _Tree, where: _Part) -> tuple[Column | None, ForeignKey | None]:
        part, hints = where.node, where.hints
        name_node = part.child_by_field_name("name")
        if name_node is None:
            return None, None
        name = unquote(tree.text(name_node))
        location = self.location(tree.start(part), tree.end(part))
        type_indexes = [index for index in range(part.child_count)
                        if part.field_name_for_child(index) in ("type", "custom_type")]
        column = Column(name=name, location=location, declaration_text=tree.text(part))
        if type_indexes:
            column.type = tree.text_between(part.children[type_indexes[0]], part.children[type_indexes[-1]])
        name_index = next(index for index in range(part.child_count)
                          if part.field_name_for_child(index) == "name")
        rest = part.children[max([name_index, *type_indexes]) + 1 :]
        items = [(tree.word(child), child) for child in rest]
        words = [word for word, _ in items]
        column.primary_key = _has_sequence(words, "PRIMARY", "KEY")
        column.unique = "UNIQUE" in words
        clause = tree.raw(part, where.until)  # NOT NULL may have been blanked for the grammar
        if any(match.group("is") is None for match in _NOT_NULL.finditer(clause)) or column.primary_key:
            column.nullable = False
        elif "NULL" in words:
            column.nullable = True
        default = _default_text(tree, items)
        column.auto_on_insert = bool(default and _NOW.search(default))
        column.auto_on_update = _on_update_now(tree, items)
        foreign_key = self.inline_reference(tree, where, items, name, location)
        if foreign_key is not None:
            foreign_key.name = _constraint_name(tree, items) or next(
                (unquote(hint.value) for hint in hints if hint.kind == "constraint"), None)
        return column, foreign_key

    def inline_reference(self, tree: _Tree, part: _Part, items: list[tuple[str, Node]], column: str,
                         location: Location) -> ForeignKey | None:
        return _foreign_key(tree, part, items, (column,), location)

    def table_constraint(self, tree: _Tree, part: _Part, table: Table) -> None:
        found = self.constraint(tree, part)
        if isinstance(found, ForeignKey):
            table.foreign_keys.append(found)
        elif isinstance(found, Index):
            table.indexes.append(found)
        elif found:
            table.primary_key = found

    def constraint(self, tree: _Tree, where: _Part) -> ForeignKey | Index | tuple[str, ...] | None:
        """A table constraint (or ALTER TABLE ... ADD constraint): a foreign key, an index (UNIQUE, MySQL's
        `KEY`), or the primary key's columns."""
        part, start = where.node, tree.start(where.node)
        items = _flatten(tree, part)
        words = [word for word, _ in items]
        name = _constraint_name(tree, items)
        named = next((hint for hint in where.hints if hint.kind == "constraint"), None)
        if named is not None:
            name = name or unquote(named.value)
            start = min(start, named.offset)
        location = self.location(start, tree.end(part))
        columns = _ordered_columns(tree, items)
        if not columns:
            return None
        if "FOREIGN" in words:
            foreign_key = _foreign_key(tree, where, items, columns, location)
            if foreign_key is not None:
                foreign_key.name = name
            return foreign_key
        if "PRIMARY" in words:
            return columns
        if "UNIQUE" in words:
            return Index(columns, unique=True, name=name or _index_name(tree, items), location=location,
                         source="unique")
        lead = next((word for word in words if word not in ("", "ADD")), "")
        if lead in ("KEY", "INDEX"):  # MySQL's inline `KEY name (columns)`
            return Index(columns, name=_index_name(tree, items), location=location, source="index")
        return None

    # ---- CREATE INDEX

    def create_index(self, statement: Statement) -> list[SchemaOp]:
        result = self.parsed(statement, "create_index")
        if result is None:
            return []
        tree, _ = result
        node = tree.find("create_index")
        assert node is not None
        table_node = _child_of_type(node, "object_reference")
        fields = _child_of_type(node, "index_fields")
        if table_node is None or fields is None:
            return []
        name_node = node.child_by_field_name("column")
        columns = tuple(_index_field(tree, field_node) for field_node in fields.named_children
                        if field_node.type == "field")
        if not columns:
            return []
        location = self.location(statement.start, statement.end)
        index = Index(
            columns=columns,
            unique=_child_of_type(node, "keyword_unique") is not None,
            partial=_child_of_type(node, "where") is not None,
            name=unquote(tree.text(name_node)) if name_node is not None else None,
            location=location,
            source="migration",
        )
        return [SchemaOp("create_index", last_part(tree.text(table_node)), location, index=index,
                         name=index.name)]

    # ---- ALTER TABLE

    def alter_table(self, statement: Statement) -> list[SchemaOp]:
        result = self.parsed(statement, "alter_table")
        if result is None:
            return []
        tree, hints = result
        node = tree.find("alter_table")
        assert node is not None
        table_node = _child_of_type(node, "object_reference")
        if table_node is None:
            return []
        table = last_part(tree.text(table_node))
        actions = [child for child in node.named_children if child.type not in ("object_reference",)
                   and not child.type.startswith("keyword_")]
        ops: list[SchemaOp] = []
        for part in _with_hints(tree, actions, hints, statement.end):
            ops.extend(self.alter_action(tree, table, part))
        return ops

    def alter_action(self, tree: _Tree, table: str, part: _Part) -> list[SchemaOp]:
        action = part.node
        location = self.location(tree.start(action), tree.end(action))
        if action.type == "add_column":
            definition = _child_of_type(action, "column_definition")
            if definition is None:
                return []
            column, foreign_key = self.column(tree, _Part(definition, part.hints, part.until))
            if column is None:
                return []
            return [SchemaOp("add_column", table, location, column=column, foreign_key=foreign_key)]
        if action.type == "drop_column":
            name = action.child_by_field_name("name")
            return [SchemaOp("drop_column", table, location, name=unquote(tree.text(name)))] if name else []
        if action.type == "rename_column":
            old, new = action.child_by_field_name("old_name"), action.child_by_field_name("new_name")
            if old is None or new is None:
                return []
            return [SchemaOp("rename_column", table, location, name=unquote(tree.text(old)),
                             new_name=unquote(tree.text(new)))]
        if action.type == "rename_object":
            target = _child_of_type(action, "object_reference")
            if target is None:
                return []
            return [SchemaOp("rename_table", table, location, new_name=last_part(tree.text(target)))]
        if action.type == "drop_constraint":
            names = [child for child in action.named_children if child.type in ("identifier", "literal")]
            return [SchemaOp("drop_constraint", table, location, name=unquote(tree.text(names[-1])))] if names else []
        if action.type == "add_constraint":
            found = self.constraint(tree, part)
            if isinstance(found, ForeignKey):
                return [SchemaOp("add_foreign_key", table, location, foreign_key=found, name=found.name)]
            if isinstance(found, Index):
                return [SchemaOp("create_index", table, location, index=found, name=found.name)]
            if found:
                return [SchemaOp("add_primary_key", table, location, columns=found)]
        return []

    # ---- DROP / RENAME (plain enough for patterns, and the grammar rejects `DROP TABLE a, b`)

    def drop(self, statement: Statement) -> list[SchemaOp]:
        text = statement.masked_text.strip()
        location = self.location(statement.start, statement.end)
        table_match = _DROP_TABLE.match(text)
        if table_match is not None:
            return [SchemaOp("drop_table", last_part(name), location)
                    for name in _names(table_match.group("names"))]
        index_match = _DROP_INDEX.match(text)
        if index_match is not None:
            table = index_match.group("table")
            on = last_part(table.decode("utf-8", "replace")) if table else ""
            return [SchemaOp("drop_index", on, location, name=last_part(name))
                    for name in _names(index_match.group("names"))]
        return []

    def rename_table(self, statement: Statement) -> list[SchemaOp]:
        match = _RENAME_TABLE.match(statement.masked_text.strip())
        if match is None:
            return []
        location = self.location(statement.start, statement.end)
        ops: list[SchemaOp] = []
        for pair in match.group("pairs").split(b","):
            names = _RENAME_PAIR.match(pair)
            if names is not None:
                ops.append(SchemaOp("rename_table", last_part(names.group("old").decode("utf-8", "replace")),
                                    location, new_name=last_part(names.group("new").decode("utf-8", "replace"))))
        return ops


def _index_field(tree: _Tree, field_node: Node) -> str:
    """A plain column of an index by its name; an expression (`lower(email)`) by its text, which no column
    name equals (an expression index serves no foreign-key lookup)."""
    column = field_node.child_by_field_name("column")
    if column is not None and field_node.child_by_field_name("function") is None:
        return unquote(tree.text(column))
    return tree.text(field_node)


def _names(raw: bytes) -> list[str]:
    names = [part.strip().decode("utf-8", "replace") for part in raw.split(b",")]
    return [name for name in names if name and _IDENT_TEXT.fullmatch(name.split(".")[-1].strip()) is not None]


# --------------------------------------------------------------------------------------------- tree helpers


class _Tree:
    """A statement's parse tree, with node text and absolute offsets."""

    def __init__(self, tree: object, text: bytes, offset: int, original: bytes) -> None:
        self.tree = tree  # keeps the nodes alive
        self.root: Node = tree.root_node  # type: ignore[attr-defined]
        self.data = text  # what was parsed (maybe with clauses blanked)
        self.original = original  # the statement before blanking (string contents blanked)
        self.offset = offset

    def find(self, kind: str) -> Node | None:
        stack = [self.root]
        depth = 0
        while stack and depth < 4:
            next_level: list[Node] = []
            for node in stack:
                if node.type == kind:
                    return node
                next_level.extend(node.named_children)
            stack = next_level
            depth += 1
        return None

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def raw(self, node: Node, end: int | None = None) -> bytes:
        """The statement's own text over the node (up to `end`, relative), blanked clauses included."""
        return self.original[node.start_byte : end if end is not None else node.end_byte]

    def text_between(self, first: Node, last: Node) -> str:
        return self.data[first.start_byte : last.end_byte].decode("utf-8", "replace")

    def start(self, node: Node) -> int:
        return self.offset + node.start_byte

    def end(self, node: Node) -> int:
        return self.offset + node.end_byte

    def word(self, node: Node) -> str:
        """The upper-cased text of a keyword (or an identifier standing where the grammar expected one)."""
        if node.type.startswith("keyword_") or node.type == "identifier":
            return self.text(node).upper()
        return ""


def _child_of_type(node: Node, kind: str) -> Node | None:
    return next((child for child in node.children if child.type == kind), None)


def _parts(definitions: Node) -> list[Node]:
    """Column definitions and table constraints of a CREATE TABLE, in order."""
    parts: list[Node] = []
    for child in definitions.named_children:
        if child.type in ("column_definition", "constraint"):
            parts.append(child)
        elif child.type == "constraints":
            parts.extend(inner for inner in child.named_children if inner.type == "constraint")
    return parts


def _flatten(tree: _Tree, node: Node) -> list[tuple[str, Node]]:
    """The children of a constraint, with the nested `constraint` node's children spliced in."""
    items: list[tuple[str, Node]] = []
    for child in node.children:
        if child.type in ("constraint", "constraints"):
            items.extend(_flatten(tree, child))
        else:
            items.append((tree.word(child), child))
    return items


def _has_sequence(words: list[str], first: str, second: str) -> bool:
    return any(word == first and following == second for word, following in zip(words, words[1:], strict=False))


def _default_text(tree: _Tree, items: list[tuple[str, Node]]) -> str | None:
    for index, (word, _) in enumerate(items):
        if word == "DEFAULT":
            pieces: list[str] = []
            for next_word, node in items[index + 1 :]:
                if next_word in _STOP_WORDS and pieces:
                    break
                pieces.append(tree.text(node))
            return " ".join(pieces)
    return None


def _on_update_now(tree: _Tree, items: list[tuple[str, Node]]) -> bool:
    """MySQL's `ON UPDATE CURRENT_TIMESTAMP` (a referential `ON UPDATE CASCADE` is something else)."""
    for index in range(len(items) - 2):
        if items[index][0] == "ON" and items[index + 1][0] == "UPDATE":
            return bool(_NOW.search(tree.text(items[index + 2][1])))
    return False


def _foreign_key(tree: _Tree, part: _Part, items: list[tuple[str, Node]], columns: tuple[str, ...],
                 location: Location) -> ForeignKey | None:
    """The `REFERENCES target (columns) ON DELETE ...` of a part, read from its tree or, when the grammar
    needed it blanked (no column list), from the hint."""
    reference = _reference(tree, items)
    actions = tree.raw(part.node, part.until)
    if reference is None:
        bare = next((hint for hint in part.hints if hint.kind == "references"), None)
        if bare is None:
            return None
        reference = (last_part(bare.value), ())
        actions = bare.actions
    target, target_columns = reference
    return ForeignKey(columns=columns, target_table=target, target_columns=target_columns,
                      on_delete=_action(_ON_DELETE, actions), on_update=_action(_ON_UPDATE, actions),
                      location=location)


def _reference(tree: _Tree, items: list[tuple[str, Node]]) -> tuple[str, tuple[str, ...]] | None:
    """`REFERENCES target (a, b)` → ("target", ("a", "b"))."""
    for index, (word, _) in enumerate(items):
        if word != "REFERENCES":
            continue
        rest = items[index + 1 :]
        if not rest or rest[0][1].type != "object_reference":
            return None
        target = last_part(tree.text(rest[0][1]))
        columns: list[str] = []
        if len(rest) > 1 and rest[1][1].type == "(":
            for _, node in rest[2:]:
                if node.type == ")":
                    break
                if node.type in ("identifier", "literal"):
                    columns.append(unquote(tree.text(node)))
        return target, tuple(columns)
    return None


def _ordered_columns(tree: _Tree, items: list[tuple[str, Node]]) -> tuple[str, ...]:
    node = next((node for _, node in items if node.type == "ordered_columns"), None)
    if node is None:
        return ()
    columns: list[str] = []
    for column in node.named_children:
        if column.type != "column":
            continue
        name = column.child_by_field_name("name")
        columns.append(unquote(tree.text(name if name is not None else column)))
    return tuple(columns)


def _constraint_name(tree: _Tree, items: list[tuple[str, Node]]) -> str | None:
    for index, (word, _) in enumerate(items[:-1]):
        if word == "CONSTRAINT" and items[index + 1][1].type in ("identifier", "literal"):
            return unquote(tree.text(items[index + 1][1]))
    return None


def _index_name(tree: _Tree, items: list[tuple[str, Node]]) -> str | None:
    """The name of `UNIQUE KEY name (...)` / `INDEX name (...)` (the identifier before the column list)."""
    for index, (_, node) in enumerate(items):
        if node.type == "ordered_columns":
            before = items[index - 1][1] if index else None
            if before is not None and before.type in ("identifier", "literal") and \
                    tree.word(before) not in ("KEY", "INDEX", "UNIQUE", "PRIMARY", "FOREIGN"):
                return unquote(tree.text(before))
    return None


@dataclass(slots=True)
class _Part:
    """A column definition, table constraint or ALTER TABLE action, with the hints blanked in its clause."""

    node: Node
    hints: list[_Hint]
    until: int  # relative offset where the clause ends (the next part's start)


def _with_hints(tree: _Tree, parts: list[Node], hints: list[_Hint], limit: int) -> list[_Part]:
    """Each part with the hints blanked in its clause. A clause runs from the part's start to the comma before
    the next part; a table constraint's blanked `CONSTRAINT name` sits between the comma before it and its
    start, a column's inside its clause."""
    separators: list[int] = []  # absolute offset of the comma before each part (or where the gap starts)
    for index, part in enumerate(parts):
        gap_start = tree.end(parts[index - 1]) if index else tree.offset
        gap = tree.original[gap_start - tree.offset : tree.start(part) - tree.offset]
        comma = gap.rfind(b",")
        separators.append(gap_start + comma if comma >= 0 else gap_start)
    result: list[_Part] = []
    for index, part in enumerate(parts):
        start = tree.start(part)
        until = separators[index + 1] if index + 1 < len(parts) else limit
        found = [hint for hint in hints if hint.kind == "references" and start <= hint.offset < until]
        if part.type == "column_definition":
            name_from, name_to = start, until
        else:
            name_from, name_to = separators[index], start
        found.extend(hint for hint in hints if hint.kind == "constraint" and name_from <= hint.offset < name_to)
        result.append(_Part(part, found, until - tree.offset))
    return result


def _blank_noise(statement: Statement) -> tuple[bytes, list[_Hint]]:
    """The statement with the clauses the grammar trips on blanked, and what they said."""
    code = bytearray(statement.text)
    masked = bytearray(statement.masked_text)
    hints: list[_Hint] = []

    def blank(start: int, end: int) -> None:
        _blank(code, start, end)
        _blank(masked, start, end)

    for match in list(_CHECK.finditer(bytes(masked))):
        end = _balanced_end(bytes(masked), match.end() - 1)
        if end is None:
            continue
        before = bytes(masked[: match.start()]).rstrip()
        named = re.search(rb"(?i)\bCONSTRAINT\s+" + _IDENT + rb"\s*$", before)
        if named is not None:  # its name goes with it
            before = before[: named.start()].rstrip()
        start = named.start() if named is not None else match.start()
        if before.endswith(b","):  # a table-level CHECK: take its comma too
            start = len(before) - 1
        blank(start, end)
    for match in list(_CONSTRAINT_NAME.finditer(bytes(masked))):
        hints.append(_Hint(statement.start + match.start(), "constraint",
                           match.group("name").decode("utf-8", "replace")))
        blank(match.start(), match.end())
    for match in list(_BARE_REFERENCES.finditer(bytes(masked))):
        hints.append(_Hint(statement.start + match.start(), "references",
                           match.group("target").decode("utf-8", "replace"), match.group("actions")))
        blank(match.start(), match.end())
    for match in list(_NOISE.finditer(bytes(masked))):
        blank(match.start(), match.end())
    for match in list(_NOT_NULL.finditer(bytes(masked))):  # `DEFAULT 0 NOT NULL`; `IS NOT NULL` stays
        if match.group("is") is None:
            blank(match.start("not"), match.end())
    trailing = re.search(rb"(?i)\)\s*(STRICT)\s*$", bytes(masked))
    if trailing is not None:
        blank(trailing.start(1), trailing.end(1))
    return bytes(code), hints


# --------------------------------------------------------------------------------------------- replay


@dataclass(slots=True)
class Replay:
    """The effective schema while migrations are replayed, and where each table came from."""

    history: SchemaHistory = field(default_factory=SchemaHistory)
    created_in: dict[str, str] = field(default_factory=dict)  # table key -> the step that created it
    # Tables that steps alter but never create (created by a model's create_all, or a migration we do not
    # see): they only add to a table declared elsewhere.
    partial: set[str] = field(default_factory=set)


def apply_ops(replay: Replay, ops: Iterable[SchemaOp], step: str, origin_detail: str) -> None:
    """Apply one migration step's operations (on copies: the records are cached facts and must stay intact)."""
    for op in ops:
        _apply(replay, _fresh(op), step, origin_detail)


def _fresh(op: SchemaOp) -> SchemaOp:
    """A copy of what the replay may change (tables, columns, keys, indexes); locations and declarations are
    shared, nothing changes them. Cheaper than a deep copy, which matters when every edit re-resolves."""
    created = None
    if op.created is not None:
        created = copied(op.created)
        created.columns = {name: _column_copy(column) for name, column in op.created.columns.items()}
        created.foreign_keys = [copied(fk) for fk in op.created.foreign_keys]
        created.indexes = [copied(index) for index in op.created.indexes]
        created.declarations = list(op.created.declarations)
    return SchemaOp(op.action, op.table, op.location, created=created,
                    column=_column_copy(op.column) if op.column is not None else None,
                    foreign_key=copied(op.foreign_key) if op.foreign_key is not None else None,
                    index=copied(op.index) if op.index is not None else None, name=op.name,
                    new_name=op.new_name, columns=op.columns, if_not_exists=op.if_not_exists)


def _column_copy(column: Column) -> Column:
    fresh = copied(column)
    fresh.attributes = dict(column.attributes)
    return fresh


def _apply(replay: Replay, op: SchemaOp, step: str, origin_detail: str) -> None:
    history = replay.history
    key = op.table.lower()
    if op.action == "create_table" and op.created is not None:
        existing = history.table(op.table)
        if existing is not None and key not in replay.partial:
            if not op.if_not_exists:
                merge_tables(existing, op.created)  # declared twice (a dump and a migration): union
            return
        if existing is not None:  # altered before it was created: keep what the alterations said
            merge_tables(op.created, existing)
        replay.partial.discard(key)
        history.create_table(op.created)
        replay.created_in[key] = step
        return
    if op.action == "drop_table":
        history.drop_table(op.table)
        replay.partial.discard(key)
        replay.created_in.pop(key, None)
        return
    table = history.table(op.table)
    if table is None and op.action in ("add_column", "create_index", "add_foreign_key", "add_primary_key"):
        history.create_table(Table(name=op.table))
        replay.partial.add(key)
    if op.action == "rename_table" and op.new_name:
        _rename_table(replay, op.table, op.new_name)
    elif op.action == "add_column" and op.column is not None:
        if replay.created_in.get(key) != step:
            op.column.origin = "migration"
            op.column.origin_detail = origin_detail
        history.add_column(op.table, op.column, op.foreign_key)
    elif op.action == "drop_column" and op.name:
        history.drop_column(op.table, op.name)
    elif op.action == "rename_column" and op.name and op.new_name:
        history.rename_column(op.table, op.name, op.new_name)
    elif op.action == "alter_column_type" and op.name and op.column is not None:
        _alter_type(history.table(op.table), op.name, op.column)
    elif op.action == "create_index" and op.index is not None:
        history.create_index(op.table, op.index)
    elif op.action == "drop_index" and op.name:
        history.drop_index(op.name, op.table or None)
    elif op.action == "add_foreign_key" and op.foreign_key is not None:
        history.add_foreign_key(op.table, op.foreign_key)
    elif op.action == "drop_constraint" and op.name:
        history.drop_constraint(op.table, op.name)
    elif op.action == "add_primary_key":
        current = history.table(op.table)
        if current is not None:
            current.primary_key = op.columns


def _alter_type(table: Table | None, name: str, altered: Column) -> None:
    """The column's type from now on; where it was first declared stays its location."""
    column = table.columns.get(name) if table is not None else None
    if column is None or altered.type is None:
        return
    column.type = altered.type
    column.type_location = None
    for key in ("type_from", "python_type", "type_source"):
        column.attributes.pop(key, None)


def _rename_table(replay: Replay, old: str, new: str) -> None:
    replay.history.rename_table(old, new)
    old_key, new_key = old.lower(), new.lower()
    if old_key in replay.created_in:
        replay.created_in[new_key] = replay.created_in.pop(old_key)
    if old_key in replay.partial:
        replay.partial.discard(old_key)
        replay.partial.add(new_key)
    for table in replay.history.tables.values():
        for fk in table.foreign_keys:
            if fk.target_table and fk.target_table.lower() == old_key:
                fk.target_table = new


def is_association(table: Table) -> bool:
    """A pure join table: two or more foreign-key columns and nothing else but, maybe, a surrogate key."""
    fk_columns = {column for fk in table.foreign_keys for column in fk.columns}
    if len(fk_columns) < 2:
        return False
    others = [(name, column) for name, column in table.columns.items() if name not in fk_columns]
    # The surrogate key may be declared on the column or by a table-level PrimaryKeyConstraint (Airflow's ab_*).
    return len(others) <= 1 and all(column.primary_key or name in table.primary_key for name, column in others)


def register_tables(builder: ModelBuilder, replay: Replay) -> None:
    """Hand the replayed schema to the model. A table the steps only alter joins a table declared elsewhere
    (a model); alone it is left out, since what created it (and its indexes) is unknown."""
    for key, table in replay.history.tables.items():
        if key in replay.partial:
            if builder.project.table(table.name) is None:
                builder.note(f"{table.name}: altered by migrations that never create it; left out")
                continue
        elif is_association(table):
            table.is_association = True
        builder.add_table(table)


# --------------------------------------------------------------------------------------------- order


_FLYWAY = re.compile(r"^[Vv](?P<version>\d+(?:[._]\d+)*)__")
_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """`V2` before `V10`, `0002` before `0010`: digit runs compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower())
                 for part in _DIGITS.split(text) if part)


def migration_sort_key(path: str) -> tuple[object, ...]:
    """Folder (natural order), then Flyway versioned files by version, other files by natural name, and Flyway
    repeatable files (`R__`) last."""
    folder, _, name = path.rpartition("/")
    flyway = _FLYWAY.match(name)
    if flyway is not None:
        version = tuple(int(part) for part in re.split(r"[._]", flyway.group("version")))
        return (natural_key(folder), 0, version, natural_key(name))
    if name.startswith(("R__", "r__")):
        return (natural_key(folder), 2, (), natural_key(name))
    return (natural_key(folder), 1, (), natural_key(name))


# --------------------------------------------------------------------------------------------- resolve


def resolve(builder: ModelBuilder) -> None:
    scripts = sorted((script for _, script in builder.records(SqlScript)), key=lambda s: migration_sort_key(s.path))
    if not scripts:
        return
    builder.project.stacks.add("sql")
    replay = Replay()
    for script in scripts:
        apply_ops(replay, script.ops, script.path, f"migration {script.path}")
    register_tables(builder, replay)
    for script in scripts:
        for note in script.notes:
            builder.note(note)

